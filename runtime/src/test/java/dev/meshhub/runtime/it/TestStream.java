package dev.meshhub.runtime.it;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.Hello;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeInfo;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;

/** A node's TaskStream as a test drives it: what the hub sent, and how the stream ended. */
final class TestStream implements AutoCloseable {

    final BlockingQueue<HubMessage> received = new LinkedBlockingQueue<>();
    final CompletableFuture<Status> ended = new CompletableFuture<>();
    private volatile ClientCallStreamObserver<NodeMessage> outbound;
    private long sequence;

    private TestStream() {
    }

    /** Opens a TaskStream on {@code channel} (which presents the node's certificate, or none). */
    static TestStream open(ManagedChannel channel) {
        return open(channel, new Metadata());
    }

    /** Opens a TaskStream with {@code headers} (for tests of what the hub makes of them). */
    static TestStream open(ManagedChannel channel, Metadata headers) {
        TestStream stream = new TestStream();
        NodeServiceGrpc.newStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .taskStream(new ClientResponseObserver<NodeMessage, HubMessage>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<NodeMessage> requestStream) {
                        stream.outbound = requestStream;
                    }

                    @Override
                    public void onNext(HubMessage value) {
                        stream.received.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        stream.ended.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        stream.ended.complete(Status.OK);
                    }
                });
        return stream;
    }

    TestStream hello() {
        return send(NodeMessage.newBuilder().setHello(Hello.newBuilder().setInfo(NodeInfo.newBuilder().setHostname("it"))).build());
    }

    /** A Hello that says the node honours output credit, as meshnode does. */
    TestStream helloWithOutputCredit() {
        return send(NodeMessage.newBuilder().setHello(Hello.newBuilder().setInfo(NodeInfo.newBuilder().setHostname("it"))
                .addCapabilities(dev.meshhub.proto.v1.NodeCapabilities.OUTPUT_CREDIT)).build());
    }

    /** Takes what the hub sends until a message matching {@code wanted}; fails after {@code seconds}. */
    HubMessage await(java.util.function.Predicate<HubMessage> wanted, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            HubMessage m = received.poll(100, TimeUnit.MILLISECONDS);
            if (m != null && wanted.test(m)) {
                return m;
            }
        }
        throw new AssertionError("the hub sent no such message within " + seconds + " s");
    }

    synchronized TestStream heartbeat() {
        return send(NodeMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()
                .setSentAtMs(System.currentTimeMillis()).setSequence(++sequence)).build());
    }

    synchronized TestStream send(NodeMessage message) {
        outbound.onNext(message);
        return this;
    }

    /** Sends heartbeats as a live node does, from a daemon thread, until the stream ends. */
    TestStream keepAlive() {
        Thread beater = new Thread(() -> {
            while (!ended.isDone()) {
                try {
                    heartbeat();
                    Thread.sleep(HubTestSupport.HEARTBEAT_INTERVAL_MS);
                } catch (InterruptedException | RuntimeException e) {
                    return;
                }
            }
        }, "test-node-heartbeat");
        beater.setDaemon(true);
        beater.start();
        return this;
    }

    /** The stream's end status, waiting at most {@code seconds}. */
    Status awaitEnd(int seconds) throws Exception {
        return ended.get(seconds, TimeUnit.SECONDS);
    }

    /** The next message the hub sent, waiting at most {@code seconds}; null if none. */
    HubMessage next(int seconds) throws InterruptedException {
        return received.poll(seconds, TimeUnit.SECONDS);
    }

    void cancel() {
        outbound.cancel("test cancels the stream", null);
    }

    @Override
    public void close() {
        if (!ended.isDone()) {
            cancel();
        }
    }
}
