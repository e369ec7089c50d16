package dev.meshhub.cli;

import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.CancelTaskRequest;
import dev.meshhub.proto.v1.CancelTaskResponse;
import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.CreateInviteResponse;
import dev.meshhub.proto.v1.ExecEvent;
import dev.meshhub.proto.v1.ExecRequest;
import dev.meshhub.proto.v1.GetMeshStatusRequest;
import dev.meshhub.proto.v1.GetPolicyRequest;
import dev.meshhub.proto.v1.GetTaskRequest;
import dev.meshhub.proto.v1.ListManagementTasksRequest;
import dev.meshhub.proto.v1.ListManagementTasksResponse;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.ListNodesResponse;
import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.ListTasksResponse;
import dev.meshhub.proto.v1.ManagementTaskInfo;
import dev.meshhub.proto.v1.MeshStatusInfo;
import dev.meshhub.proto.v1.NodeStatus;
import dev.meshhub.proto.v1.PolicyInfo;
import dev.meshhub.proto.v1.RevokeNodeRequest;
import dev.meshhub.proto.v1.RevokeNodeResponse;
import dev.meshhub.proto.v1.SandboxPolicy;
import dev.meshhub.proto.v1.SetPolicyRequest;
import dev.meshhub.proto.v1.SyncEvent;
import dev.meshhub.proto.v1.SyncPullRequest;
import dev.meshhub.proto.v1.SyncPushRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskState;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for the hub's AdminService on 127.0.0.1: checks the Bearer header like the hub,
 * records requests and answers from canned data. Exec, SyncPull and SyncPush run the test's
 * {@link #exec}, {@link #syncPull} and {@link #syncPush} scripts.
 */
final class FakeAdminHub implements AutoCloseable {

    static final String ADMIN_TOKEN = "adm-0123456789abcdefghijklmnopqrstuvwxyz";
    static final String INVITE_TOKEN = "mhi.0123456789abcdef." + "Q".repeat(43);

    final BlockingQueue<String> authorizationHeaders = new LinkedBlockingQueue<>();
    final BlockingQueue<Object> requests = new LinkedBlockingQueue<>();
    final List<NodeStatus> nodes = new CopyOnWriteArrayList<>();
    /** The journal, newest first, for ListTasks / GetTask / CancelTask. */
    final List<TaskInfo> tasks = new CopyOnWriteArrayList<>();
    /** Policies for GetPolicy / SetPolicy, matched by node id or name. */
    final List<PolicyInfo> policies = new CopyOnWriteArrayList<>();
    /** The scheduler's tasks for ListManagementTasks. */
    final List<ManagementTaskInfo> managementTasks = new CopyOnWriteArrayList<>();
    /** When set, ListManagementTasks fails with it (as the hub does with no scheduler running). */
    volatile Status managementTasksRefusal;
    /** The monitor's snapshot for GetMeshStatus. */
    volatile MeshStatusInfo meshStatus = MeshStatusInfo.getDefaultInstance();
    /** When set, GetMeshStatus fails with it (no monitor, or no snapshot yet). */
    volatile Status meshStatusRefusal;
    /** What Exec does; runs on a server thread and may block. */
    volatile ExecScript exec = (request, events) -> events.onError(Status.NOT_FOUND
            .withDescription("no node with id or name '" + request.getNode() + "'").asRuntimeException());
    /**
     * Released at once when an Exec call ends for any reason (its context is cancelled on the
     * transport thread, even while a blocking script runs): what a script waits on.
     */
    final CountDownLatch execEnded = new CountDownLatch(1);
    /** Released when an Exec call was cancelled by the client (not on a normal end); after the script returned. */
    final CountDownLatch execCancelled = new CountDownLatch(1);
    /** What SyncPull does; runs on a server thread and may block. */
    volatile SyncScript<SyncPullRequest> syncPull = (request, events) -> events.onError(Status.NOT_FOUND
            .withDescription("no node with id or name '" + request.getNode() + "'").asRuntimeException());
    /** What SyncPush does; runs on a server thread and may block. */
    volatile SyncScript<SyncPushRequest> syncPush = (request, events) -> events.onError(Status.NOT_FOUND
            .withDescription("no node with id or name '" + request.getNode() + "'").asRuntimeException());
    /**
     * Released when a sync call was cancelled by the client, at once on the transport's thread (even
     * while a blocking script runs): what a script waits on.
     */
    final CountDownLatch syncCancelled = new CountDownLatch(1);
    private final Server server;

    /** The test's Exec behaviour. */
    interface ExecScript {
        void run(ExecRequest request, ServerCallStreamObserver<ExecEvent> events) throws Exception;
    }

    /** The test's SyncPull or SyncPush behaviour. */
    interface SyncScript<Q> {
        void run(Q request, ServerCallStreamObserver<SyncEvent> events) throws Exception;
    }

    FakeAdminHub() throws IOException {
        ServerInterceptor checkBearer = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                String auth = headers.get(WireHeaders.AUTHORIZATION);
                authorizationHeaders.add(auth == null ? "<none>" : auth);
                if (!(WireHeaders.BEARER + ADMIN_TOKEN).equals(auth)) {
                    call.close(Status.UNAUTHENTICATED.withDescription("admin token does not match"), new Metadata());
                    return new ServerCall.Listener<>() { };
                }
                return next.startCall(call, headers);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(new Service(), checkBearer))
                .build()
                .start();
    }

    int port() {
        return server.getPort();
    }

    String address() {
        return "127.0.0.1:" + port();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }

    private final class Service extends AdminServiceGrpc.AdminServiceImplBase {
        @Override
        public void createInvite(CreateInviteRequest request, StreamObserver<CreateInviteResponse> response) {
            requests.add(request);
            response.onNext(CreateInviteResponse.newBuilder()
                    .setToken(INVITE_TOKEN).setInviteId("0123456789abcdef").setExpiresAtMs(1_767_225_600_000L).build());
            response.onCompleted();
        }

        @Override
        public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> response) {
            requests.add(request);
            ListNodesResponse.Builder answer = ListNodesResponse.newBuilder();
            for (NodeStatus n : nodes) {
                if (request.getIncludeOffline() || n.getConnected()) {
                    answer.addNodes(n);
                }
            }
            response.onNext(answer.build());
            response.onCompleted();
        }

        @Override
        public void revokeNode(RevokeNodeRequest request, StreamObserver<RevokeNodeResponse> response) {
            requests.add(request);
            for (NodeStatus n : nodes) {
                if (n.getNodeId().equals(request.getNode()) || n.getName().equals(request.getNode())) {
                    response.onNext(RevokeNodeResponse.newBuilder()
                            .setNodeId(n.getNodeId()).setSessionClosed(n.getConnected()).build());
                    response.onCompleted();
                    return;
                }
            }
            response.onError(Status.NOT_FOUND
                    .withDescription("no node with id or name '" + request.getNode() + "'; see 'meshctl nodes --all'")
                    .asRuntimeException());
        }

        @Override
        public void exec(ExecRequest request, StreamObserver<ExecEvent> response) {
            requests.add(request);
            ServerCallStreamObserver<ExecEvent> events = (ServerCallStreamObserver<ExecEvent>) response;
            io.grpc.Context.current().addListener(context -> execEnded.countDown(), Runnable::run);
            events.setOnCancelHandler(execCancelled::countDown);
            try {
                exec.run(request, events);
            } catch (Exception e) {
                if (!events.isCancelled()) {
                    events.onError(Status.INTERNAL.withDescription("fake exec script failed: " + e).asRuntimeException());
                }
            }
        }

        @Override
        public void syncPull(SyncPullRequest request, StreamObserver<SyncEvent> response) {
            requests.add(request);
            sync(syncPull, request, response);
        }

        @Override
        public void syncPush(SyncPushRequest request, StreamObserver<SyncEvent> response) {
            requests.add(request);
            sync(syncPush, request, response);
        }

        private <Q> void sync(SyncScript<Q> script, Q request, StreamObserver<SyncEvent> response) {
            ServerCallStreamObserver<SyncEvent> events = (ServerCallStreamObserver<SyncEvent>) response;
            // The context ends with every call; with a cause only when the call did not end normally.
            io.grpc.Context.current().addListener(context -> {
                if (context.cancellationCause() != null) {
                    syncCancelled.countDown();
                }
            }, Runnable::run);
            events.setOnCancelHandler(() -> { });
            try {
                script.run(request, events);
            } catch (Exception e) {
                if (!events.isCancelled()) {
                    events.onError(Status.INTERNAL.withDescription("fake sync script failed: " + e).asRuntimeException());
                }
            }
        }

        @Override
        public void listTasks(ListTasksRequest request, StreamObserver<ListTasksResponse> response) {
            requests.add(request);
            ListTasksResponse.Builder answer = ListTasksResponse.newBuilder();
            for (TaskInfo t : tasks) {
                boolean nodeMatches = request.getNode().isEmpty() || request.getNode().equals(t.getNodeId())
                        || request.getNode().equals(t.getNodeName());
                boolean stateMatches = request.getState() == TaskState.TASK_STATE_UNSPECIFIED
                        || request.getState() == t.getState();
                if (nodeMatches && stateMatches && (request.getLimit() == 0 || answer.getTasksCount() < request.getLimit())) {
                    answer.addTasks(t);
                }
            }
            response.onNext(answer.build());
            response.onCompleted();
        }

        @Override
        public void getTask(GetTaskRequest request, StreamObserver<TaskInfo> response) {
            requests.add(request);
            for (TaskInfo t : tasks) {
                if (t.getTaskId().equals(request.getTaskId())) {
                    response.onNext(t);
                    response.onCompleted();
                    return;
                }
            }
            response.onError(noTask(request.getTaskId()));
        }

        @Override
        public void cancelTask(CancelTaskRequest request, StreamObserver<CancelTaskResponse> response) {
            requests.add(request);
            for (TaskInfo t : tasks) {
                if (t.getTaskId().equals(request.getTaskId())) {
                    response.onNext(CancelTaskResponse.newBuilder().setTask(t).build());
                    response.onCompleted();
                    return;
                }
            }
            response.onError(noTask(request.getTaskId()));
        }

        @Override
        public void getPolicy(GetPolicyRequest request, StreamObserver<PolicyInfo> response) {
            requests.add(request);
            PolicyInfo p = policy(request.getNode());
            if (p == null) {
                response.onError(noNode(request.getNode()));
                return;
            }
            response.onNext(p);
            response.onCompleted();
        }

        @Override
        public void setPolicy(SetPolicyRequest request, StreamObserver<PolicyInfo> response) {
            requests.add(request);
            PolicyInfo p = policy(request.getNode());
            if (p == null) {
                response.onError(noNode(request.getNode()));
                return;
            }
            if (request.getMode() == SandboxPolicy.Mode.PERMISSIVE && !request.getConfirm()) {
                response.onError(Status.FAILED_PRECONDITION.withDescription("PERMISSIVE needs confirm")
                        .asRuntimeException());
                return;
            }
            PolicyInfo changed = p.toBuilder().setPolicy(p.getPolicy().toBuilder().setMode(request.getMode())
                    .setRevision(p.getPolicy().getRevision() + 1)).build();
            policies.set(policies.indexOf(p), changed);
            response.onNext(changed);
            response.onCompleted();
        }

        @Override
        public void listManagementTasks(ListManagementTasksRequest request,
                StreamObserver<ListManagementTasksResponse> response) {
            requests.add(request);
            Status refusal = managementTasksRefusal;
            if (refusal != null) {
                response.onError(refusal.asRuntimeException());
                return;
            }
            response.onNext(ListManagementTasksResponse.newBuilder().addAllTasks(managementTasks).build());
            response.onCompleted();
        }

        @Override
        public void getMeshStatus(GetMeshStatusRequest request, StreamObserver<MeshStatusInfo> response) {
            requests.add(request);
            Status refusal = meshStatusRefusal;
            if (refusal != null) {
                response.onError(refusal.asRuntimeException());
                return;
            }
            response.onNext(meshStatus);
            response.onCompleted();
        }

        private PolicyInfo policy(String node) {
            for (PolicyInfo p : policies) {
                if (p.getNodeId().equals(node) || p.getNodeName().equals(node)) {
                    return p;
                }
            }
            return null;
        }

        private RuntimeException noTask(String id) {
            return Status.NOT_FOUND.withDescription("no task '" + id + "'; see 'meshctl tasks'").asRuntimeException();
        }

        private RuntimeException noNode(String node) {
            return Status.NOT_FOUND.withDescription("no node with id or name '" + node + "'").asRuntimeException();
        }
    }

    /** The next request the hub received, which must be a {@code type}. */
    <T> T awaitRequest(Class<T> type) throws InterruptedException {
        Object r = requests.poll(5, TimeUnit.SECONDS);
        org.junit.Assert.assertTrue("expected a " + type.getSimpleName() + ", got " + r, type.isInstance(r));
        return type.cast(r);
    }
}
