package dev.meshhub.admin.impl;

import dev.meshhub.api.sync.FileTransfers;
import dev.meshhub.api.sync.TransferException;
import dev.meshhub.api.sync.TransferHandle;
import dev.meshhub.api.sync.TransferListener;
import dev.meshhub.proto.v1.SyncEvent;
import dev.meshhub.proto.v1.SyncFinished;
import dev.meshhub.proto.v1.SyncProgress;
import dev.meshhub.proto.v1.SyncPullRequest;
import dev.meshhub.proto.v1.SyncPushRequest;
import dev.meshhub.proto.v1.SyncStarted;
import dev.meshhub.server.support.Answers;
import dev.meshhub.server.support.ApiStatuses;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * SyncPull and SyncPush: start a transfer through {@link FileTransfers} and stream its events
 * (started, progress, then finished or the error). Cancelling the call cancels the transfer; the
 * admin API stopping only ends the call, and the transfer goes on.
 */
final class TransferCalls {

    private final HubServices services;
    private final LongCalls longCalls;

    TransferCalls(HubServices services, LongCalls longCalls) {
        this.services = services;
        this.longCalls = longCalls;
    }

    void pull(SyncPullRequest request, StreamObserver<SyncEvent> responseObserver) {
        relay(responseObserver, (transfers, listener) -> transfers.pull(request.getNode(), request.getPath(), listener));
    }

    void push(SyncPushRequest request, StreamObserver<SyncEvent> responseObserver) {
        relay(responseObserver, (transfers, listener) -> transfers.push(request.getNode(), request.getSource(), request.getPath(), listener));
    }

    /** Starts a transfer. */
    private interface TransferStart {
        TransferHandle start(FileTransfers transfers, TransferListener listener) throws TransferException;
    }

    private void relay(StreamObserver<SyncEvent> responseObserver, TransferStart start) {
        ServerCallStreamObserver<SyncEvent> out = (ServerCallStreamObserver<SyncEvent>) responseObserver;
        FileTransfers transfers = services.transfers();
        if (transfers == null) {
            Answers.fail(out, Status.UNAVAILABLE.withDescription("file sync is not running in this hub (no FileTransfers"
                    + " service: is the meshhub-transport feature started?); retry shortly"));
            return;
        }
        Relay relay = new Relay(out);
        TransferHandle handle;
        try {
            handle = start.start(transfers, relay);
        } catch (TransferException e) {
            Answers.fail(out, ApiStatuses.of(e));
            return;
        } catch (RuntimeException e) {
            Answers.fail(out, Status.UNAVAILABLE.withDescription("file sync failed to start the transfer (" + e.getClass().getSimpleName()
                    + "); retry shortly"));
            return;
        }
        if (!longCalls.add(relay)) {
            relay.detach(Status.UNAVAILABLE.withDescription("the hub's admin API is stopping; transfer " + handle.id()
                    + " goes on"));
            return;
        }
        out.setOnCancelHandler(() -> {
            if (relay.end()) {
                handle.cancel("the admin's call was cancelled");
            }
        });
        handle.result().whenComplete((result, failure) -> {
            longCalls.remove(relay);
            if (failure != null) {
                Throwable cause = ApiStatuses.unwrap(failure);
                relay.close(cause instanceof TransferException e ? ApiStatuses.of(e)
                        : Status.INTERNAL.withDescription("the transfer failed; see the hub log"));
                return;
            }
            relay.finish(SyncEvent.newBuilder().setFinished(SyncFinished.newBuilder()
                    .setMirrorFile(result.location()).setSize(result.size()).setSha256(result.sha256())
                    .setTransferred(result.transferred())).build());
        });
    }

    /** One call's events, sent from hub threads under one lock (a stream observer is not thread-safe). */
    private static final class Relay implements TransferListener, LongCalls.LongCall {
        private final ServerCallStreamObserver<SyncEvent> out;
        private boolean ended;

        Relay(ServerCallStreamObserver<SyncEvent> out) {
            this.out = out;
        }

        @Override
        public void started(String transferId, long resumedFrom, long totalSize) {
            send(SyncEvent.newBuilder().setStarted(SyncStarted.newBuilder()
                    .setSyncId(transferId).setResumedFrom(resumedFrom).setTotalSize(totalSize)).build());
        }

        @Override
        public void progress(long bytes, long totalSize) {
            send(SyncEvent.newBuilder().setProgress(SyncProgress.newBuilder().setBytes(bytes).setTotalSize(totalSize)).build());
        }

        private synchronized void send(SyncEvent event) {
            if (ended || out.isCancelled()) {
                return;
            }
            try {
                out.onNext(event);
            } catch (RuntimeException gone) {
                ended = true;
            }
        }

        /** Marks the call over; true for the first caller. */
        synchronized boolean end() {
            boolean first = !ended;
            ended = true;
            return first;
        }

        synchronized void finish(SyncEvent last) {
            if (end()) {
                try {
                    out.onNext(last);
                    out.onCompleted();
                } catch (RuntimeException gone) {
                    // the admin went away meanwhile
                }
            }
        }

        synchronized void close(Status status) {
            if (end()) {
                Answers.fail(out, status);
            }
        }

        @Override
        public void detach(Status status) {
            close(status.withDescription(status.getDescription() + "; the transfer goes on: its outcome is in the hub log"
                    + " (and, for a push, in meshctl tasks)"));
        }
    }
}
