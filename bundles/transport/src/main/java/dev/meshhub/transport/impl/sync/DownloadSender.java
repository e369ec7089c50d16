package dev.meshhub.transport.impl.sync;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.ByteString;

import dev.meshhub.proto.v1.DownloadChunk;
import dev.meshhub.proto.v1.DownloadRequest;
import dev.meshhub.server.support.Answers;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;

/**
 * Serves one push's bytes to its node (the Download stream), as fast as the node takes them: read on
 * the IO pool, sent only while the call is ready, resumed by its on-ready handler. One buffer of
 * {@link FileSyncService#MAX_CHUNK} per download; the file is closed on every ending.
 */
final class DownloadSender {

    private static final Logger LOG = LoggerFactory.getLogger(DownloadSender.class);

    private final PushTransfers.Push push;
    private final ServerCallStreamObserver<DownloadChunk> out;
    private final SerialExecutor work;
    private final ByteBuffer buffer = ByteBuffer.allocate(FileSyncService.MAX_CHUNK);
    private FileChannel channel;
    private long position;
    private boolean done;

    private DownloadSender(FileSyncService sync, PushTransfers.Push push, ServerCallStreamObserver<DownloadChunk> out, long offset) {
        this.push = push;
        this.out = out;
        this.position = offset;
        this.work = new SerialExecutor(sync.io());
    }

    /**
     * Answers a node's Download call: {@code push} is the node's own running push, or null when there
     * is none by that id for this node.
     */
    static void serve(FileSyncService sync, PushTransfers.Push push, DownloadRequest request, ServerCallStreamObserver<DownloadChunk> out) {
        if (push == null) {
            Answers.fail(out, Status.NOT_FOUND.withDescription("no transfer " + Answers.shorten(request.getTransferId(), 40)
                    + " for this node (it ended or was cancelled)"));
            return;
        }
        if (request.getOffset() < 0 || request.getOffset() > push.size) {
            Answers.fail(out, Status.OUT_OF_RANGE.withDescription("offset " + request.getOffset() + " is outside the file (0 to "
                    + push.size + ")"));
            return;
        }
        DownloadSender sender = new DownloadSender(sync, push, out, request.getOffset());
        out.setOnReadyHandler(sender::pump);
        out.setOnCancelHandler(sender::cancelled);
        sender.pump();
    }

    private void pump() {
        work.execute(this::send);
    }

    private void cancelled() {
        work.execute(this::close);
    }

    private void send() {
        if (done) {
            return;
        }
        try {
            if (channel == null) {
                channel = push.open(push.file);
            }
            while (!done && out.isReady() && position < push.size) {
                buffer.clear().limit((int) Math.min(FileSyncService.MAX_CHUNK, push.size - position));
                int read = channel.read(buffer, position);
                if (read < 0) {
                    close();
                    Answers.fail(out, Status.DATA_LOSS.withDescription(push.source + " shrank to " + position
                            + " bytes while being pushed (" + push.size + " were announced); push it again"));
                    return;
                }
                buffer.flip();
                out.onNext(DownloadChunk.newBuilder().setOffset(position).setData(ByteString.copyFrom(buffer)).build());
                position += read;
                push.progress(position, false);
            }
            if (!done && position >= push.size) {
                close();
                out.onCompleted();
            }
        } catch (IOException e) {
            close();
            LOG.warn("push {} cannot read {}", push.transferId, push.file, e);
            Answers.fail(out, Status.INTERNAL.withDescription("the hub cannot read the file it pushes: " + e.getMessage()));
        } catch (RuntimeException e) {
            // The call was cancelled under us.
            close();
        }
    }

    private void close() {
        done = true;
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing {}", push.file, e);
            }
            channel = null;
        }
    }
}
