package dev.meshhub.admin.impl;

import java.util.ArrayDeque;

import dev.meshhub.proto.v1.ExecEvent;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;

/**
 * The response stream of one Exec call, paced by the caller: an event waits here until gRPC is ready
 * for it (the caller's HTTP/2 window), and its {@code sent} callback runs once it is handed to gRPC,
 * which is when the task's output counts as taken by this caller and the node may send more. The
 * node's credit bounds what waits here; {@code maxBufferedBytes} is a backstop for nodes without flow
 * control: past it the call ends with RESOURCE_EXHAUSTED. Once the stream is closed (ended, failed,
 * the caller gone) every waiting and later callback runs at once, so a closed stream never holds the
 * task back. Every method may be called from any thread.
 */
final class ExecStream {

    private record Pending(ExecEvent event, Runnable sent) {
    }

    private final ServerCallStreamObserver<ExecEvent> out;
    private final long maxBufferedBytes;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private long bufferedBytes;
    private boolean completeWhenDrained;
    private boolean closed;

    ExecStream(ServerCallStreamObserver<ExecEvent> out, long maxBufferedBytes) {
        this.out = out;
        this.maxBufferedBytes = maxBufferedBytes;
        out.setOnReadyHandler(this::drain);
    }

    void send(ExecEvent event) {
        send(event, () -> {
        });
    }

    /** Queues an event; {@code sent} runs once it is handed to gRPC, or at once if the stream is closed. */
    void send(ExecEvent event, Runnable sent) {
        boolean overflow;
        synchronized (this) {
            if (closed) {
                overflow = false;
            } else {
                queue.add(new Pending(event, sent));
                bufferedBytes += event.getSerializedSize();
                overflow = bufferedBytes > maxBufferedBytes;
                sent = null;
            }
        }
        if (sent != null) {
            sent.run();
        } else if (overflow) {
            fail(Status.RESOURCE_EXHAUSTED.withDescription("the caller read the output too slowly (over " + maxBufferedBytes
                    + " bytes waiting, and this task's node sends output without flow control); the task keeps running:"
                    + " follow it with 'meshctl task ID --output --follow'"));
        } else {
            drain();
        }
    }

    /** Ends the call once everything queued has been sent. */
    void complete() {
        synchronized (this) {
            completeWhenDrained = true;
        }
        drain();
    }

    void fail(Status status) {
        ArrayDeque<Pending> dropped;
        synchronized (this) {
            if (closed) {
                return;
            }
            dropped = close();
            try {
                out.onError(status.asRuntimeException());
            } catch (StatusRuntimeException | IllegalStateException callAlreadyOver) {
                // the caller went away
            }
        }
        release(dropped);
    }

    /** The caller went away: nothing more is sent, nothing waits for it. */
    void callerGone() {
        ArrayDeque<Pending> dropped;
        synchronized (this) {
            dropped = close();
        }
        release(dropped);
    }

    synchronized boolean isClosed() {
        return closed;
    }

    private void drain() {
        ArrayDeque<Pending> sent = new ArrayDeque<>();
        ArrayDeque<Pending> dropped = null;
        synchronized (this) {
            if (closed) {
                return;
            }
            try {
                while (!queue.isEmpty() && out.isReady()) {
                    Pending next = queue.poll();
                    bufferedBytes -= next.event().getSerializedSize();
                    out.onNext(next.event());
                    sent.add(next);
                }
                if (completeWhenDrained && queue.isEmpty()) {
                    closed = true;
                    out.onCompleted();
                }
            } catch (StatusRuntimeException | IllegalStateException callAlreadyOver) {
                dropped = close();
            }
        }
        release(sent);
        if (dropped != null) {
            release(dropped);
        }
    }

    private ArrayDeque<Pending> close() {
        closed = true;
        ArrayDeque<Pending> dropped = new ArrayDeque<>(queue);
        queue.clear();
        bufferedBytes = 0;
        return dropped;
    }

    /** Runs callbacks outside the lock (they may grant credit to a node). */
    private static void release(ArrayDeque<Pending> pending) {
        for (Pending p : pending) {
            p.sent().run();
        }
    }
}
