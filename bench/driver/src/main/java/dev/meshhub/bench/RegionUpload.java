package dev.meshhub.bench;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;

import dev.meshhub.proto.v1.UploadChunk;
import dev.meshhub.proto.v1.UploadDone;
import dev.meshhub.proto.v1.UploadEnd;
import dev.meshhub.proto.v1.UploadReady;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import dev.meshhub.proto.v1.UploadStart;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;

/**
 * Row 4's sender: one region of a file sent as one file over an Upload-shaped stream, the way the
 * node agent's FileUploader does it (UploadStart, wait for UploadReady, chunks from its offset only
 * as fast as the stream takes them, UploadEnd with size and SHA-256, wait for UploadDone), on the
 * calling thread. Used unchanged against the hub and against the discarding baseline server, so the
 * two see the same messages, chunking and flow control.
 *
 * <p>The SHA-256 is computed before (by {@link SourceFile}), not while sending: the node's hashing
 * is not the hub's cost, and the baseline does not hash either. Each chunk is read from the file
 * (page cache) into a buffer of its own.
 */
final class RegionUpload implements ClientResponseObserver<UploadRequest, UploadResponse> {

    private static final long ANSWER_TIMEOUT_SECONDS = 120;

    private final CompletableFuture<UploadReady> ready = new CompletableFuture<>();
    private final CompletableFuture<UploadDone> done = new CompletableFuture<>();
    private final Object readiness = new Object();
    private volatile ClientCallStreamObserver<UploadRequest> requests;

    private RegionUpload() {
    }

    /**
     * Sends {@code length} bytes of {@code file} from {@code from} as the file {@code path}.
     *
     * @param open   opens the stream (the hub's Upload as the node, or the baseline's)
     * @param sha256 SHA-256 of the region
     * @return the server's UploadDone
     * @throws IllegalStateException naming the status when the server ended the upload
     */
    static UploadDone send(Function<StreamObserver<UploadResponse>, StreamObserver<UploadRequest>> open, FileChannel file,
                           long from, long length, int chunkBytes, String path, byte[] sha256)
            throws IOException, InterruptedException {
        RegionUpload call = new RegionUpload();
        open.apply(call);
        try {
            call.requests.onNext(UploadRequest.newBuilder().setStart(UploadStart.newBuilder().setPath(path).setSize(length)).build());
            long offset = call.ready.get(ANSWER_TIMEOUT_SECONDS, TimeUnit.SECONDS).getOffset();
            if (offset != 0) {
                throw new IllegalStateException("the server holds " + offset + " bytes of " + path + " already (a resume);"
                        + " the benchmark uploads fresh paths only");
            }
            for (long position = 0; position < length; ) {
                int n = (int) Math.min(chunkBytes, length - position);
                byte[] buffer = new byte[n];
                ByteBuffer target = ByteBuffer.wrap(buffer);
                while (target.hasRemaining()) {
                    if (file.read(target, from + position + target.position()) < 0) {
                        throw new EOFException("source file ended at " + (from + position + target.position()));
                    }
                }
                ByteString data = UnsafeByteOperations.unsafeWrap(buffer);
                call.awaitReady();
                call.requests.onNext(UploadRequest.newBuilder().setChunk(UploadChunk.newBuilder().setOffset(position).setData(data)).build());
                position += n;
            }
            call.requests.onNext(UploadRequest.newBuilder().setEnd(UploadEnd.newBuilder().setTotalSize(length)
                    .setSha256(ByteString.copyFrom(sha256))).build());
            call.requests.onCompleted();
            return call.done.get(ANSWER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("upload of " + path + " ended: " + Status.fromThrowable(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            call.requests.cancel("benchmark: no answer in time", null);
            throw new IllegalStateException("upload of " + path + ": no answer within " + ANSWER_TIMEOUT_SECONDS + " s", e);
        } catch (IOException | InterruptedException | RuntimeException e) {
            call.requests.cancel("benchmark: sender failed", e);
            throw e;
        }
    }

    private void awaitReady() throws InterruptedException {
        synchronized (readiness) {
            while (!requests.isReady()) {
                if (done.isCompletedExceptionally()) {
                    try {
                        done.join();
                    } catch (RuntimeException e) {
                        throw new IllegalStateException("the server ended the upload: " + Status.fromThrowable(e.getCause()), e.getCause());
                    }
                }
                readiness.wait(100);
            }
        }
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<UploadRequest> stream) {
        requests = stream;
        stream.setOnReadyHandler(() -> {
            synchronized (readiness) {
                readiness.notifyAll();
            }
        });
    }

    @Override
    public void onNext(UploadResponse response) {
        switch (response.getPayloadCase()) {
            case READY -> ready.complete(response.getReady());
            case DONE -> done.complete(response.getDone());
            default -> {
                // Nothing else is expected.
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        ready.completeExceptionally(t);
        done.completeExceptionally(t);
        synchronized (readiness) {
            readiness.notifyAll();
        }
    }

    @Override
    public void onCompleted() {
        done.completeExceptionally(Status.INTERNAL.withDescription("the server ended the upload without UploadDone").asRuntimeException());
    }
}
