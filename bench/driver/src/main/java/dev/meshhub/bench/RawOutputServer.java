package dev.meshhub.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.Int64Value;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

/**
 * Baseline (b) of row 18: a raw grpc-java server-streaming call over loopback, plaintext, the server in the driver's JVM
 * (Netty, handlers on 4 threads like the hub's), the client a process of its own ({@link RawOutputClient}) whose stdout
 * goes to {@code sha256sum}. The server answers a call for SIZE bytes with SIZE / 64 KiB messages of one zero buffer
 * (the last one shorter), sending only while the call is ready (gRPC's flow control from the client's window), so it
 * holds no more than gRPC's own buffers: what a task's output costs between two processes without a hub or a node.
 */
final class RawOutputServer implements AutoCloseable {

    /** As the node agent sends a task's output (OutputPump.CHUNK_BYTES), so both sides move the same messages. */
    static final int MESSAGE_BYTES = 64 * 1024;
    private static final ByteString ZEROS = ByteString.copyFrom(new byte[MESSAGE_BYTES]);

    private final ExecutorService handlers;
    private final Server server;

    private RawOutputServer(ExecutorService handlers, Server server) {
        this.handlers = handlers;
        this.server = server;
    }

    static RawOutputServer start() throws IOException {
        ServerServiceDefinition service = ServerServiceDefinition.builder("meshhub.bench.RawOutput")
                .addMethod(RawOutputClient.STREAM, ServerCalls.asyncServerStreamingCall(RawOutputServer::stream))
                .build();
        ExecutorService handlers = DiscardBaseline.handlerThreads("bench-raw-output-server-");
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).executor(handlers)
                .addService(service).build().start();
        return new RawOutputServer(handlers, server);
    }

    /** {@code request} bytes of zeros, a message at a time while the call is ready. */
    private static void stream(Int64Value request, StreamObserver<BytesValue> responses) {
        ServerCallStreamObserver<BytesValue> call = (ServerCallStreamObserver<BytesValue>) responses;
        long size = request.getValue();
        BytesValue full = BytesValue.of(ZEROS);
        call.setOnReadyHandler(new Runnable() {
            private long sent;
            private boolean done;

            @Override
            public void run() {
                while (!done && call.isReady() && !call.isCancelled()) {
                    long left = size - sent;
                    if (left <= 0) {
                        done = true;
                        call.onCompleted();
                        return;
                    }
                    int n = (int) Math.min(MESSAGE_BYTES, left);
                    call.onNext(n == MESSAGE_BYTES ? full : BytesValue.of(ZEROS.substring(0, n)));
                    sent += n;
                }
            }
        });
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
        handlers.shutdownNow();
    }
}
