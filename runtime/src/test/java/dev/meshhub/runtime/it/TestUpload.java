package dev.meshhub.runtime.it;

import java.security.MessageDigest;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.ByteString;

import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.UploadChunk;
import dev.meshhub.proto.v1.UploadEnd;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import dev.meshhub.proto.v1.UploadStart;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

/** A node's Upload stream as a test drives it, message by message, including wrong ones. */
final class TestUpload implements AutoCloseable {

    final BlockingQueue<UploadResponse> received = new LinkedBlockingQueue<>();
    final CompletableFuture<Status> ended = new CompletableFuture<>();
    private volatile ClientCallStreamObserver<UploadRequest> outbound;

    /** Opens an Upload stream on {@code channel}, which presents the node's certificate. */
    static TestUpload open(ManagedChannel channel) {
        TestUpload upload = new TestUpload();
        NodeServiceGrpc.newStub(channel)
                .upload(new ClientResponseObserver<UploadRequest, UploadResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<UploadRequest> requestStream) {
                        upload.outbound = requestStream;
                    }

                    @Override
                    public void onNext(UploadResponse value) {
                        upload.received.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        upload.ended.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        upload.ended.complete(Status.OK);
                    }
                });
        return upload;
    }

    /** Sends UploadStart and returns the offset of the hub's UploadReady. */
    long start(String path, long size) throws Exception {
        send(UploadRequest.newBuilder().setStart(UploadStart.newBuilder().setPath(path).setSize(size)).build());
        UploadResponse ready = received.poll(10, TimeUnit.SECONDS);
        if (ready == null || !ready.hasReady()) {
            throw new AssertionError("no UploadReady; stream ended with " + ended.getNow(null));
        }
        return ready.getReady().getOffset();
    }

    TestUpload startOnly(String path, long size) {
        return send(UploadRequest.newBuilder().setStart(UploadStart.newBuilder().setPath(path).setSize(size)).build());
    }

    TestUpload chunk(long offset, byte[] data) {
        return send(UploadRequest.newBuilder().setChunk(UploadChunk.newBuilder().setOffset(offset)
                .setData(ByteString.copyFrom(data))).build());
    }

    TestUpload end(long totalSize, byte[] sha256) {
        return send(UploadRequest.newBuilder().setEnd(UploadEnd.newBuilder().setTotalSize(totalSize)
                .setSha256(ByteString.copyFrom(sha256))).build());
    }

    synchronized TestUpload send(UploadRequest request) {
        outbound.onNext(request);
        return this;
    }

    /** How the stream ended, waiting at most {@code seconds}. */
    Status awaitEnd(int seconds) throws Exception {
        return ended.get(seconds, TimeUnit.SECONDS);
    }

    void cancel() {
        outbound.cancel("the test drops the stream", null);
    }

    @Override
    public void close() {
        if (!ended.isDone()) {
            cancel();
        }
    }

    static byte[] sha256(byte[]... parts) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        for (byte[] part : parts) {
            digest.update(part);
        }
        return digest.digest();
    }
}
