package dev.meshhub.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;

/** A server stream that records what the hub sends, standing in for a gRPC call in unit tests. */
public final class RecordingStreamObserver<T> extends ServerCallStreamObserver<T> {

    public final List<T> sent = new ArrayList<>();
    public volatile boolean ready = true;
    public volatile Status closedWith;
    public volatile boolean completed;
    /** Completes when the call ends: OK after onCompleted, the status after onError. */
    public final CompletableFuture<Status> ended = new CompletableFuture<>();
    public Runnable onCancel;
    public Runnable onClose;
    /** Called with each message as it is sent, on the sending thread (a peer answering at once). */
    public volatile java.util.function.Consumer<T> onSent = message -> {
    };
    /** Messages the handler asked for (manual inbound flow control). */
    public final AtomicInteger requested = new AtomicInteger();

    @Override
    public boolean isReady() {
        return ready;
    }

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {
    }

    @Override
    public void disableAutoInboundFlowControl() {
    }

    @Override
    public void disableAutoRequest() {
    }

    @Override
    public void request(int count) {
        requested.addAndGet(count);
    }

    @Override
    public void setMessageCompression(boolean enable) {
    }

    @Override
    public boolean isCancelled() {
        return false;
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {
        this.onCancel = onCancelHandler;
    }

    @Override
    public void setOnCloseHandler(Runnable onCloseHandler) {
        this.onClose = onCloseHandler;
    }

    @Override
    public void setCompression(String compression) {
    }

    @Override
    public synchronized void onNext(T value) {
        if (closedWith != null || completed) {
            throw new IllegalStateException("call already closed");
        }
        sent.add(value);
        onSent.accept(value);
    }

    @Override
    public synchronized void onError(Throwable t) {
        if (closedWith != null || completed) {
            throw new IllegalStateException("call already closed");
        }
        closedWith = Status.fromThrowable(t);
        ended.complete(closedWith);
    }

    @Override
    public synchronized void onCompleted() {
        if (closedWith != null || completed) {
            throw new IllegalStateException("call already closed");
        }
        completed = true;
        ended.complete(Status.OK);
    }
}
