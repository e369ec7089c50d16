package dev.meshhub.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import dev.meshhub.proto.v1.UploadDone;
import dev.meshhub.proto.v1.UploadReady;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
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
 * Baseline (a) of row 4: a tiny grpc-java server in the driver's JVM that takes the same Upload
 * messages and throws the bytes away: UploadReady at offset 0 on UploadStart, chunks counted and
 * dropped, UploadDone on UploadEnd. No disk, no hashing, no locks: what gRPC over loopback costs
 * alone. Its handlers run on 4 threads like the hub's node server; inbound flow control is
 * grpc-java's default (one message at a time). The client side is {@link RegionUpload}, unchanged,
 * on one connection with a direct executor like a simulated node's.
 */
final class DiscardBaseline implements AutoCloseable {

    static final MethodDescriptor<UploadRequest, UploadResponse> UPLOAD = BenchMethods.method(MethodDescriptor.MethodType.BIDI_STREAMING,
            "meshhub.bench.Discard", "Upload", UploadRequest.getDefaultInstance(), UploadResponse.getDefaultInstance());

    private final ExecutorService handlers;
    private final Server server;
    private final ManagedChannel channel;

    private DiscardBaseline(ExecutorService handlers, Server server) {
        this.handlers = handlers;
        this.server = server;
        this.channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().directExecutor().build();
    }

    static DiscardBaseline start() throws IOException {
        ServerServiceDefinition service = ServerServiceDefinition.builder("meshhub.bench.Discard")
                .addMethod(UPLOAD, ServerCalls.asyncBidiStreamingCall(responses -> new StreamObserver<UploadRequest>() {
                    private long bytes;
                    private String path = "";

                    @Override
                    public void onNext(UploadRequest request) {
                        switch (request.getPayloadCase()) {
                            case START -> {
                                path = request.getStart().getPath();
                                responses.onNext(UploadResponse.newBuilder().setReady(UploadReady.newBuilder()
                                        .setUploadId("discard").setOffset(0)).build());
                            }
                            case CHUNK -> bytes += request.getChunk().getData().size();
                            case END -> {
                                responses.onNext(UploadResponse.newBuilder().setDone(UploadDone.newBuilder().setPath(path)
                                        .setSize(bytes)).build());
                                responses.onCompleted();
                            }
                            default -> {
                                // Nothing else is sent.
                            }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        // The client went away.
                    }

                    @Override
                    public void onCompleted() {
                        // Answered at UploadEnd.
                    }
                }))
                .build();
        ExecutorService handlers = handlerThreads("bench-discard-server-");
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).executor(handlers)
                .maxInboundMessageSize(4 * 1024 * 1024).addService(service).build().start();
        return new DiscardBaseline(handlers, server);
    }

    /** The handler threads of a baseline server: 4, like the hub's node server (grpcThreads = 4), daemons named PREFIX1 to PREFIX4. */
    static ExecutorService handlerThreads(String prefix) {
        AtomicInteger threads = new AtomicInteger();
        return Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, prefix + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Opens one stream (for {@link RegionUpload#send}). */
    Function<StreamObserver<UploadResponse>, StreamObserver<UploadRequest>> opener() {
        return responses -> ClientCalls.asyncBidiStreamingCall(channel.newCall(UPLOAD, CallOptions.DEFAULT), responses);
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
        handlers.shutdownNow();
    }
}
