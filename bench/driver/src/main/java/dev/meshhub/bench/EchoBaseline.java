package dev.meshhub.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.HdrHistogram.Histogram;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

/**
 * Baseline of row 1: a raw grpc-java bidirectional stream over loopback that echoes each message,
 * one at a time, with the same 64 B payload. Server and client run in the driver's JVM; the server
 * runs its handlers on 4 threads like the hub's node server (grpcThreads = 4), the client takes the
 * echo on its event loop like the simulated nodes, and the caller waits on a CompletableFuture like
 * the probe does. The stream stays open between rounds.
 */
final class EchoBaseline implements AutoCloseable {

    private static final MethodDescriptor<BytesValue, BytesValue> ECHO = BenchMethods.method(MethodDescriptor.MethodType.BIDI_STREAMING,
            "meshhub.bench.Echo", "Stream", BytesValue.getDefaultInstance(), BytesValue.getDefaultInstance());

    private final ExecutorService handlers;
    private final Server server;
    private final ManagedChannel channel;
    private final Exchange exchange = new Exchange();
    private final StreamObserver<BytesValue> requests;
    private final BytesValue message;

    private EchoBaseline(ExecutorService handlers, Server server, int payloadBytes) {
        this.handlers = handlers;
        this.server = server;
        this.channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().directExecutor().build();
        this.requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(ECHO, CallOptions.DEFAULT), exchange);
        this.message = BytesValue.of(ByteString.copyFrom(new byte[payloadBytes]));
    }

    static EchoBaseline start(int payloadBytes) throws IOException {
        ServerServiceDefinition service = ServerServiceDefinition.builder("meshhub.bench.Echo")
                .addMethod(ECHO, ServerCalls.asyncBidiStreamingCall(responses -> new StreamObserver<BytesValue>() {
                    @Override
                    public void onNext(BytesValue value) {
                        responses.onNext(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        // The client went away.
                    }

                    @Override
                    public void onCompleted() {
                        responses.onCompleted();
                    }
                }))
                .build();
        ExecutorService handlers = DiscardBaseline.handlerThreads("bench-echo-server-");
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).executor(handlers)
                .addService(service).build().start();
        return new EchoBaseline(handlers, server, payloadBytes);
    }

    /** One round: {@code warmup} echoes unrecorded, then {@code count} recorded (nanoseconds). */
    Histogram round(int warmup, int count) throws InterruptedException {
        Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(120), 3);
        for (int i = 0; i < warmup + count; i++) {
            long sent = System.nanoTime();
            exchange.send(requests, message);
            long received = System.nanoTime();
            if (i >= warmup) {
                latency.recordValue(received - sent);
            }
        }
        return latency;
    }

    @Override
    public void close() throws InterruptedException {
        try {
            requests.onCompleted();
        } catch (RuntimeException e) {
            // Already gone.
        }
        channel.shutdownNow();
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
        handlers.shutdownNow();
    }

    /** One message out, wait for its echo. */
    private static final class Exchange implements StreamObserver<BytesValue> {
        private volatile CompletableFuture<BytesValue> pending;

        void send(StreamObserver<BytesValue> requests, BytesValue message) throws InterruptedException {
            CompletableFuture<BytesValue> reply = new CompletableFuture<>();
            pending = reply;
            requests.onNext(message);
            try {
                reply.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("echo baseline: no echo within 10 s", e);
            }
        }

        @Override
        public void onNext(BytesValue value) {
            pending.complete(value);
        }

        @Override
        public void onError(Throwable t) {
            pending.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            // Done.
        }
    }
}
