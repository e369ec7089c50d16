package dev.meshhub.admin.impl;

import java.util.ArrayDeque;

import dev.meshhub.proto.v1.ExecEvent;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;

/**
 * The response stream of one Exec call, with flow control: events wait here while the caller is not
 * reading, up to a bound; past it the call ends with RESOURCE_EXHAUSTED (the task itself keeps
 * running and its output tail stays in the journal). Every method may be called from any thread.
 */
final class ExecStream {

    private final ServerCallStreamObserver<ExecEvent> out;
    private final long maxBufferedBytes;
    private final ArrayDeque<ExecEvent> queue = new ArrayDeque<>();
    private long bufferedBytes;
    private boolean completeWhenDrained;
    private boolean closed;

    ExecStream(ServerCallStreamObserver<ExecEvent> out, long maxBufferedBytes) {
        this.out = out;
        this.maxBufferedBytes = maxBufferedBytes;
        out.setOnReadyHandler(this::drain);
    }

    synchronized void send(ExecEvent event) {
        if (closed) {
            return;
        }
        queue.add(event);
        bufferedBytes += event.getSerializedSize();
        if (bufferedBytes > maxBufferedBytes) {
            fail(Status.RESOURCE_EXHAUSTED.withDescription("the caller read the output too slowly (over " + maxBufferedBytes
                    + " bytes waiting); the task keeps running: follow it with 'meshctl task ID'"));
            return;
        }
        drain();
    }

    /** Ends the call once everything queued has been sent. */
    synchronized void complete() {
        completeWhenDrained = true;
        drain();
    }

    synchronized void fail(Status status) {
        if (closed) {
            return;
        }
        closed = true;
        queue.clear();
        bufferedBytes = 0;
        try {
            out.onError(status.asRuntimeException());
        } catch (StatusRuntimeException | IllegalStateException callAlreadyOver) {
            // the caller went away
        }
    }

    private synchronized void drain() {
        if (closed) {
            return;
        }
        try {
            while (!queue.isEmpty() && out.isReady()) {
                ExecEvent event = queue.poll();
                bufferedBytes -= event.getSerializedSize();
                out.onNext(event);
            }
            if (completeWhenDrained && queue.isEmpty()) {
                closed = true;
                out.onCompleted();
            }
        } catch (StatusRuntimeException | IllegalStateException callAlreadyOver) {
            closed = true;
            queue.clear();
        }
    }
}
