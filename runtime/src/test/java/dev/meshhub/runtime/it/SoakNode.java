package dev.meshhub.runtime.it;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.google.protobuf.ByteString;

import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.Hello;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeInfo;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskOutput;
import dev.meshhub.proto.v1.TaskStarted;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

/**
 * A node on its own connection that answers every task at once (started, one line of output,
 * succeeded) and heartbeats from a shared scheduler, following the interval the hub sets. It never
 * reconnects: a stream that ends is a dropped node, recorded in {@link #ended}.
 */
final class SoakNode implements AutoCloseable {

    final String name;
    final CompletableFuture<Status> ended = new CompletableFuture<>();
    final AtomicLong tasksAnswered = new AtomicLong();
    final AtomicLong settingsUpdates = new AtomicLong();
    private final ManagedChannel channel;
    private final ScheduledExecutorService heartbeats;
    private ClientCallStreamObserver<NodeMessage> toHub;
    private ScheduledFuture<?> beating;
    private long sequence;

    private SoakNode(String name, ManagedChannel channel, ScheduledExecutorService heartbeats) {
        this.name = name;
        this.heartbeats = heartbeats;
        this.channel = channel;
    }

    /**
     * Opens the TaskStream of {@code enrolled} (whose channel should call back on the soak's own small
     * pool, not grpc's cached default executor, so the thread figures measure the hub rather than how
     * many client callbacks happened to overlap), says Hello and starts heartbeating every {@code intervalMs}.
     */
    static SoakNode connect(String name, TestNode enrolled, ScheduledExecutorService heartbeats, long intervalMs) {
        SoakNode node = new SoakNode(name, enrolled.channel, heartbeats);
        NodeServiceGrpc.newStub(node.channel).taskStream(node.new Responses());
        node.send(NodeMessage.newBuilder().setHello(Hello.newBuilder().setInfo(NodeInfo.newBuilder().setHostname(name))).build());
        node.beatEvery(intervalMs);
        return node;
    }

    private synchronized void beatEvery(long intervalMs) {
        if (beating != null) {
            beating.cancel(false);
        }
        beating = heartbeats.scheduleAtFixedRate(() -> send(NodeMessage.newBuilder()
                .setHeartbeat(Heartbeat.newBuilder().setSentAtMs(System.currentTimeMillis()).setSequence(++sequence)).build()),
                intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    private synchronized void send(NodeMessage message) {
        if (!ended.isDone()) {
            try {
                toHub.onNext(message);
            } catch (RuntimeException gone) {
                ended.complete(Status.fromThrowable(gone));
            }
        }
    }

    private void answer(String taskId) {
        send(NodeMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(taskId).setPid(1)).build());
        send(NodeMessage.newBuilder().setTaskOutput(TaskOutput.newBuilder().setTaskId(taskId)
                .setStream(TaskOutput.Stream.STDOUT).setData(ByteString.copyFromUtf8("soak\n")).setSequence(1)).build());
        send(NodeMessage.newBuilder().setTaskFinished(TaskFinished.newBuilder().setTaskId(taskId)
                .setOutcome(TaskFinished.Outcome.SUCCEEDED).setExitCode(0)).build());
        tasksAnswered.incrementAndGet();
    }

    @Override
    public synchronized void close() throws InterruptedException {
        if (beating != null) {
            beating.cancel(false);
        }
        if (!ended.isDone() && toHub != null) {
            toHub.cancel("soak over", null);
        }
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private final class Responses implements ClientResponseObserver<NodeMessage, HubMessage> {
        @Override
        public void beforeStart(ClientCallStreamObserver<NodeMessage> requestStream) {
            toHub = requestStream;
        }

        @Override
        public void onNext(HubMessage message) {
            switch (message.getPayloadCase()) {
                case TASK -> answer(message.getTask().getTaskId());
                case CANCEL_TASK -> send(NodeMessage.newBuilder().setTaskFinished(TaskFinished.newBuilder()
                        .setTaskId(message.getCancelTask().getTaskId()).setOutcome(TaskFinished.Outcome.CANCELLED)).build());
                case SETTINGS_UPDATE -> {
                    settingsUpdates.incrementAndGet();
                    beatEvery(message.getSettingsUpdate().getHeartbeatIntervalMs());
                }
                default -> {
                    // heartbeats, policy updates: nothing to do
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            ended.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            ended.complete(Status.OK);
        }
    }
}
