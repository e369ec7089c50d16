package dev.meshhub.node;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.Files;
import java.util.Objects;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.LinkOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

import com.google.protobuf.ByteString;

import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.UploadChunk;
import dev.meshhub.proto.v1.UploadDone;
import dev.meshhub.proto.v1.UploadEnd;
import dev.meshhub.proto.v1.UploadReady;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import dev.meshhub.proto.v1.UploadStart;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

/**
 * Uploads one workspace file to the hub's mirror over the Upload RPC, on the calling thread (never
 * the agent's thread): asks where to start, hashes what the hub already holds locally, then sends
 * the rest in chunks only as fast as the stream takes them, and the whole file's size and SHA-256.
 */
final class FileUploader {

    private static final Logger LOG = Logger.getLogger(FileUploader.class.getName());

    /** Bytes per chunk (the hub takes at most 1 MiB). */
    static final int CHUNK = 1024 * 1024;
    private static final long READY_TIMEOUT_SECONDS = 60;

    /** How an upload ended well. */
    record Result(String path, long size, String sha256, long sent, long resumedFrom) {
    }

    /** An upload that did not complete; the message says why (the hub's status, or a local failure). */
    static final class UploadException extends Exception {
        private static final long serialVersionUID = 1L;

        UploadException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Channel channel;
    private final ClientInterceptor credential;

    FileUploader(Channel channel, ClientInterceptor credential) {
        this.channel = channel;
        this.credential = credential;
    }

    /**
     * Opens the file that was checked, and only it: never through a link (the last name is opened
     * without following links), and only if it is still the same regular file (same file key) in the
     * same real directory once open. A link or another file swapped in after the check (by a task,
     * say, pointing at the agent's private state) fails the upload instead of being read.
     */
    static FileChannel openChecked(Path file) throws IOException {
        BasicFileAttributes before = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!before.isRegularFile()) {
            throw new IOException("it is no longer a regular file (a link or something else was put in its place); not uploaded");
        }
        FileChannel in = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        try {
            BasicFileAttributes after = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            Path parent = file.getParent();
            if (!after.isRegularFile() || !Objects.equals(before.fileKey(), after.fileKey())
                    || (parent != null && !parent.toRealPath().equals(parent))) {
                throw new IOException("it changed while it was being opened (a link or another file swapped in); not uploaded");
            }
            return in;
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /**
     * Uploads {@code file} as {@code path}. Blocks until the hub confirmed the file or the upload
     * failed; an interrupt cancels the stream (what the hub holds stays for a resume).
     */
    Result upload(Path file, String path, String syncId) throws UploadException, InterruptedException {
        Call call = new Call();
        try (FileChannel in = openChecked(file)) {
            long size = in.size();
            NodeServiceGrpc.newStub(channel).withInterceptors(credential).upload(call);
            call.send(UploadRequest.newBuilder().setStart(UploadStart.newBuilder().setPath(path).setSize(size)
                    .setSyncId(syncId)).build());
            UploadReady ready = call.ready.get(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            long offset = ready.getOffset();
            MessageDigest digest = sha256();
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
            // What the hub holds already: hashed here, not sent again.
            long position = 0;
            while (position < Math.min(offset, size)) {
                buffer.clear().limit((int) Math.min(CHUNK, Math.min(offset, size) - position));
                int read = in.read(buffer, position);
                if (read < 0) {
                    break;
                }
                buffer.flip();
                digest.update(buffer);
                position += read;
            }
            // A hub holding more than the file has means the file changed: the size check fails it and
            // the hub drops its partial, so the next upload starts afresh.
            long sent = 0;
            position = Math.min(offset, size);
            while (position < size) {
                buffer.clear().limit((int) Math.min(CHUNK, size - position));
                int read = in.read(buffer, position);
                if (read < 0) {
                    break;
                }
                buffer.flip();
                ByteString data = ByteString.copyFrom(buffer.duplicate());
                digest.update(buffer);
                call.awaitReady();
                call.send(UploadRequest.newBuilder().setChunk(UploadChunk.newBuilder().setOffset(position).setData(data)).build());
                position += read;
                sent += read;
            }
            call.send(UploadRequest.newBuilder().setEnd(UploadEnd.newBuilder().setTotalSize(position)
                    .setSha256(ByteString.copyFrom(digest.digest()))).build());
            call.complete();
            UploadDone done = call.done.get(READY_TIMEOUT_SECONDS + TimeUnit.MILLISECONDS.toSeconds(size / 1000), TimeUnit.SECONDS);
            return new Result(done.getPath(), done.getSize(), done.getSha256(), sent, Math.min(offset, size));
        } catch (ExecutionException e) {
            throw new UploadException(describe(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            call.cancel("the hub did not answer in time");
            throw new UploadException("the hub did not answer within " + READY_TIMEOUT_SECONDS + " s", e);
        } catch (IOException e) {
            call.cancel("reading the file failed");
            throw new UploadException("cannot read " + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            call.cancel("the node agent is stopping");
            throw e;
        } catch (RuntimeException e) {
            call.cancel("the upload failed");
            throw new UploadException(describe(e), e);
        }
    }

    private static String describe(Throwable t) {
        Status status = Status.fromThrowable(t);
        return status.getCode() == Status.Code.UNKNOWN && status.getDescription() == null ? String.valueOf(t)
                : status.getCode() + ": " + status.getDescription();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    /** The stream, with the two answers it expects and the transport's readiness. */
    private static final class Call implements ClientResponseObserver<UploadRequest, UploadResponse> {
        final CompletableFuture<UploadReady> ready = new CompletableFuture<>();
        final CompletableFuture<UploadDone> done = new CompletableFuture<>();
        private final Object readiness = new Object();
        private ClientCallStreamObserver<UploadRequest> requests;

        @Override
        public void beforeStart(ClientCallStreamObserver<UploadRequest> stream) {
            requests = stream;
            stream.setOnReadyHandler(() -> {
                synchronized (readiness) {
                    readiness.notifyAll();
                }
            });
        }

        void awaitReady() throws InterruptedException, UploadException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
            synchronized (readiness) {
                while (!requests.isReady()) {
                    if (done.isDone()) {
                        try {
                            done.getNow(null);
                        } catch (RuntimeException e) {
                            throw new UploadException(describe(e.getCause() != null ? e.getCause() : e), e);
                        }
                        throw new UploadException("the hub ended the upload early", null);
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new UploadException("the hub took no data for " + READY_TIMEOUT_SECONDS + " s", null);
                    }
                    readiness.wait(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
                }
            }
        }

        synchronized void send(UploadRequest request) {
            requests.onNext(request);
        }

        synchronized void complete() {
            requests.onCompleted();
        }

        void cancel(String why) {
            try {
                requests.cancel(why, null);
            } catch (RuntimeException ignored) {
                // already ended
            }
        }

        @Override
        public void onNext(UploadResponse response) {
            switch (response.getPayloadCase()) {
                case READY -> ready.complete(response.getReady());
                case DONE -> done.complete(response.getDone());
                default -> LOG.fine("ignoring an upload answer this agent does not know");
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
            if (!done.isDone()) {
                done.completeExceptionally(Status.INTERNAL.withDescription("the hub ended the upload without an answer")
                        .asRuntimeException());
            }
        }
    }
}
