package dev.meshhub.bench;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.GetMeshStatusRequest;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.MeshStatusInfo;
import dev.meshhub.proto.v1.NodeStatus;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;

/** The few admin calls the driver needs, each with a deadline. */
final class HubAdmin implements AutoCloseable {

    private static final long DEADLINE_SECONDS = 5;

    private final ManagedChannel channel;
    private final AdminServiceGrpc.AdminServiceBlockingStub stub;
    private final AdminServiceGrpc.AdminServiceStub async;

    HubAdmin(int port, String token) {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().maxInboundMessageSize(64 << 20).build();
        Metadata headers = new Metadata();
        headers.put(WireHeaders.AUTHORIZATION, WireHeaders.BEARER + token);
        stub = AdminServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        async = AdminServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** The states of {@code node}'s latest tasks (at most 1,000), counted. */
    java.util.Map<String, Long> taskStates(String node) {
        return stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .listTasks(dev.meshhub.proto.v1.ListTasksRequest.newBuilder().setNode(node).setLimit(1000).build()).getTasksList()
                .stream().collect(Collectors.groupingBy(t -> t.getState().name(), java.util.TreeMap::new, Collectors.counting()));
    }

    /**
     * {@code echo} on {@code node} through Exec with the task timeout {@code timeoutMs}; the call itself ends after
     * {@code callMs} at most (the hub keeps the task). {@code ended} gets the task's final state, or the call's status code.
     */
    void execAsync(String node, int timeoutMs, long callMs, java.util.function.Consumer<String> ended) {
        dev.meshhub.proto.v1.ExecRequest request = dev.meshhub.proto.v1.ExecRequest.newBuilder().setNode(node)
                .setCommand(dev.meshhub.proto.v1.CommandTask.newBuilder()
                        .setArgv(dev.meshhub.proto.v1.ArgvCommand.newBuilder().addArgs("echo").addArgs("silent"))
                        .setTimeoutMs(timeoutMs))
                .build();
        async.withDeadlineAfter(callMs, TimeUnit.MILLISECONDS).exec(request,
                new io.grpc.stub.StreamObserver<dev.meshhub.proto.v1.ExecEvent>() {
                    private volatile String state;

                    @Override
                    public void onNext(dev.meshhub.proto.v1.ExecEvent event) {
                        if (event.hasFinished()) {
                            state = event.getFinished().getState().name();
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended.accept(io.grpc.Status.fromThrowable(t).getCode().name());
                    }

                    @Override
                    public void onCompleted() {
                        ended.accept(state == null ? "no final record" : state);
                    }
                });
    }

    /** What one {@link #exec} call got: the task's final record (null if none came) and the output bytes it delivered. */
    record ExecResult(dev.meshhub.proto.v1.TaskInfo finished, long outputBytes) {
    }

    /**
     * Runs {@code argv} on {@code node} through Exec and reads the call to its end (at most {@code callSeconds}): its final
     * record and the output bytes that reached this caller.
     */
    ExecResult exec(String node, java.util.List<String> argv, long callSeconds) {
        dev.meshhub.proto.v1.ExecRequest request = dev.meshhub.proto.v1.ExecRequest.newBuilder().setNode(node)
                .setCommand(dev.meshhub.proto.v1.CommandTask.newBuilder()
                        .setArgv(dev.meshhub.proto.v1.ArgvCommand.newBuilder().addAllArgs(argv)))
                .build();
        dev.meshhub.proto.v1.TaskInfo finished = null;
        long bytes = 0;
        java.util.Iterator<dev.meshhub.proto.v1.ExecEvent> events = stub.withDeadlineAfter(callSeconds, TimeUnit.SECONDS).exec(request);
        while (events.hasNext()) {
            dev.meshhub.proto.v1.ExecEvent event = events.next();
            if (event.hasOutput()) {
                bytes += event.getOutput().getData().size();
            } else if (event.hasFinished()) {
                finished = event.getFinished();
            }
        }
        return new ExecResult(finished, bytes);
    }

    /** Sets {@code node}'s sandbox policy ({@code PERMISSIVE} confirmed, as {@code meshctl policy set NODE permissive --yes}). */
    dev.meshhub.proto.v1.PolicyInfo setPolicy(String node, dev.meshhub.proto.v1.SandboxPolicy.Mode mode) {
        return stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS).setPolicy(dev.meshhub.proto.v1.SetPolicyRequest.newBuilder()
                .setNode(node).setMode(mode).setConfirm(true).build());
    }

    /** A single-use invite token. */
    String createInvite() {
        return stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .createInvite(CreateInviteRequest.newBuilder().setTtlSeconds(900).setNote("benchmark node").build())
                .getToken();
    }

    /** Names of the nodes with a live session. */
    Set<String> connectedNodes() {
        return stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .filter(NodeStatus::getConnected).map(NodeStatus::getName).collect(Collectors.toSet());
    }

    /** How many nodes have a live session. */
    int connectedCount() {
        return (int) stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream().filter(NodeStatus::getConnected).count();
    }

    /** Every enrolled node, connected or not (revoked ones too). */
    int enrolledCount() {
        return stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .listNodes(ListNodesRequest.newBuilder().setIncludeOffline(true).build()).getNodesCount();
    }

    /** ListNodes as meshctl nodes calls it (row 10's warm-JVM baseline). */
    dev.meshhub.proto.v1.ListNodesResponse listNodes() {
        return stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS).listNodes(ListNodesRequest.getDefaultInstance());
    }

    /** Lets the next call connect at once, not after the channel's reconnect backoff (a hub that is still starting). */
    void resetConnectBackoff() {
        channel.resetConnectBackoff();
    }

    /** The monitor's latest snapshot (live IO locks among it). */
    MeshStatusInfo meshStatus() {
        return stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS).getMeshStatus(GetMeshStatusRequest.getDefaultInstance());
    }

    /** The management tasks the scheduler tracks, with their last runs. */
    java.util.List<dev.meshhub.proto.v1.ManagementTaskInfo> managementTasks() {
        return stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
                .listManagementTasks(dev.meshhub.proto.v1.ListManagementTasksRequest.getDefaultInstance()).getTasksList();
    }

    /** Starts a CA rotation (or, with {@code finish}, retires the old CA now). */
    dev.meshhub.proto.v1.HubTrustInfo rotateCa(boolean finish) {
        return stub.withDeadlineAfter(DEADLINE_SECONDS * 6, TimeUnit.SECONDS)
                .rotateCa(dev.meshhub.proto.v1.RotateCaRequest.newBuilder().setFinish(finish).build());
    }

    /** The hub's trust (pin, rotation in progress). */
    dev.meshhub.proto.v1.HubTrustInfo trust() {
        return stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS).getHubTrust(dev.meshhub.proto.v1.GetHubTrustRequest.getDefaultInstance());
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
