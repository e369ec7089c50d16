package dev.meshhub.transport.impl;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.monitor.MeshStatus;
import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeEvents;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.CreateInviteResponse;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.ListNodesResponse;
import dev.meshhub.proto.v1.NodeStatus;
import dev.meshhub.proto.v1.RevokeNodeRequest;
import dev.meshhub.proto.v1.RevokeNodeResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import com.google.protobuf.ByteString;
import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.PolicyAdministration;
import dev.meshhub.api.policy.SandboxMode;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.proto.v1.CancelTaskRequest;
import dev.meshhub.proto.v1.CancelTaskResponse;
import dev.meshhub.proto.v1.ExecEvent;
import dev.meshhub.proto.v1.ExecRequest;
import dev.meshhub.proto.v1.GetMeshStatusRequest;
import dev.meshhub.proto.v1.GetPolicyRequest;
import dev.meshhub.proto.v1.GetTaskRequest;
import dev.meshhub.proto.v1.ListManagementTasksRequest;
import dev.meshhub.proto.v1.ListManagementTasksResponse;
import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.ListTasksResponse;
import dev.meshhub.proto.v1.MeshStatusInfo;
import dev.meshhub.proto.v1.PolicyInfo;
import dev.meshhub.proto.v1.SetPolicyRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskOutput;
import io.grpc.stub.StreamObserver;

/** The admin API. Like the node service, it never blocks: storage work completes on the store's threads. */
final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServiceImpl.class);
    static final Duration STORE_TIMEOUT = Duration.ofSeconds(10);

    /** Output an Exec call may have waiting for a slow caller before the call is ended. */
    static final long EXEC_BUFFER_BYTES = 8L * 1024 * 1024;

    private final Supplier<EnrollmentStore> store;
    private final NodeSessions sessions;
    private final NodeSessions.EventSink events;
    private final Dispatcher dispatcher;
    private final Supplier<TaskJournal> journal;
    private final Supplier<SandboxPolicy> policy;
    private final Supplier<PolicyAdministration> policyAdministration;
    private final Supplier<ManagementScheduler> scheduler;
    private final Supplier<MeshStatus> meshStatus;

    AdminServiceImpl(Supplier<EnrollmentStore> store, NodeSessions sessions, NodeSessions.EventSink events, Dispatcher dispatcher,
            Supplier<TaskJournal> journal, Supplier<SandboxPolicy> policy, Supplier<PolicyAdministration> policyAdministration,
            Supplier<ManagementScheduler> scheduler, Supplier<MeshStatus> meshStatus) {
        this.store = store;
        this.sessions = sessions;
        this.events = events;
        this.dispatcher = dispatcher;
        this.journal = journal;
        this.policy = policy;
        this.policyAdministration = policyAdministration;
        this.scheduler = scheduler;
        this.meshStatus = meshStatus;
    }

    private volatile FileSync fileSync;

    /** File sync, once the transport has it running. */
    AdminServiceImpl withFileSync(FileSync sync) {
        this.fileSync = sync;
        return this;
    }

    @Override
    public void syncPull(dev.meshhub.proto.v1.SyncPullRequest request, StreamObserver<dev.meshhub.proto.v1.SyncEvent> responseObserver) {
        relay(responseObserver, (sync, listener) -> sync.pull(request.getNode(), request.getPath(), listener));
    }

    @Override
    public void syncPush(dev.meshhub.proto.v1.SyncPushRequest request, StreamObserver<dev.meshhub.proto.v1.SyncEvent> responseObserver) {
        relay(responseObserver, (sync, listener) -> sync.push(request.getNode(), request.getSource(), request.getPath(), listener));
    }

    /** Starts a transfer. */
    private interface TransferStart {
        dev.meshhub.api.sync.TransferHandle start(FileSync sync, dev.meshhub.api.sync.TransferListener listener)
                throws dev.meshhub.api.sync.TransferException;
    }

    /**
     * Runs a transfer and streams its events: started, progress, then finished or the error. Events
     * come from hub threads; the observer is used under its own lock. Cancelling the call cancels the
     * transfer.
     */
    private void relay(StreamObserver<dev.meshhub.proto.v1.SyncEvent> responseObserver, TransferStart start) {
        ServerCallStreamObserver<dev.meshhub.proto.v1.SyncEvent> out = (ServerCallStreamObserver<dev.meshhub.proto.v1.SyncEvent>) responseObserver;
        FileSync sync = fileSync;
        if (sync == null) {
            Answers.fail(out, Status.UNAVAILABLE.withDescription("file sync is not running in this hub; retry shortly"));
            return;
        }
        Object lock = new Object();
        dev.meshhub.api.sync.TransferListener listener = new dev.meshhub.api.sync.TransferListener() {
            @Override
            public void started(String transferId, long resumedFrom, long totalSize) {
                send(out, lock, dev.meshhub.proto.v1.SyncEvent.newBuilder().setStarted(dev.meshhub.proto.v1.SyncStarted.newBuilder()
                        .setSyncId(transferId).setResumedFrom(resumedFrom).setTotalSize(totalSize)).build());
            }

            @Override
            public void progress(long bytes, long totalSize) {
                send(out, lock, dev.meshhub.proto.v1.SyncEvent.newBuilder().setProgress(dev.meshhub.proto.v1.SyncProgress.newBuilder()
                        .setBytes(bytes).setTotalSize(totalSize)).build());
            }
        };
        dev.meshhub.api.sync.TransferHandle handle;
        try {
            handle = start.start(sync, listener);
        } catch (dev.meshhub.api.sync.TransferException e) {
            Answers.fail(out, FileSync.status(e));
            return;
        }
        out.setOnCancelHandler(() -> handle.cancel("the admin's call was cancelled"));
        handle.result().whenComplete((result, failure) -> {
            synchronized (lock) {
                if (out.isCancelled()) {
                    return;
                }
                try {
                    if (failure != null) {
                        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                                ? failure.getCause() : failure;
                        out.onError((cause instanceof dev.meshhub.api.sync.TransferException e ? FileSync.status(e)
                                : Status.INTERNAL.withDescription("the transfer failed; see the hub log")).asRuntimeException());
                        return;
                    }
                    out.onNext(dev.meshhub.proto.v1.SyncEvent.newBuilder().setFinished(dev.meshhub.proto.v1.SyncFinished.newBuilder()
                            .setMirrorFile(result.location()).setSize(result.size()).setSha256(result.sha256())
                            .setTransferred(result.transferred())).build());
                    out.onCompleted();
                } catch (RuntimeException gone) {
                    // the admin went away meanwhile
                }
            }
        });
    }

    private static void send(ServerCallStreamObserver<dev.meshhub.proto.v1.SyncEvent> out, Object lock,
                             dev.meshhub.proto.v1.SyncEvent event) {
        synchronized (lock) {
            if (out.isCancelled()) {
                return;
            }
            try {
                out.onNext(event);
            } catch (RuntimeException gone) {
                // the admin went away meanwhile
            }
        }
    }

    @Override
    public void exec(ExecRequest request, StreamObserver<ExecEvent> responseObserver) {
        ServerCallStreamObserver<ExecEvent> out = (ServerCallStreamObserver<ExecEvent>) responseObserver;
        CommandSpec command;
        try {
            command = TaskMessages.fromWire(request.getCommand());
        } catch (IllegalArgumentException e) {
            Answers.fail(out, Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            return;
        }
        ExecStream stream = new ExecStream(out, EXEC_BUFFER_BYTES);
        TaskHandle handle;
        try {
            handle = dispatcher.dispatch(request.getNode(), command, output -> stream.send(ExecEvent.newBuilder()
                    .setOutput(TaskOutput.newBuilder()
                            .setTaskId(output.taskId())
                            .setStream(output.stream() == dev.meshhub.api.task.TaskOutput.Stream.STDERR ? TaskOutput.Stream.STDERR : TaskOutput.Stream.STDOUT)
                            .setData(ByteString.copyFrom(output.data()))
                            .setSequence(output.sequence()))
                    .build()));
        } catch (DispatchException e) {
            Answers.fail(out, DispatchStatuses.of(e));
            return;
        }
        out.setOnCancelHandler(() -> handle.cancel("the admin's exec call was cancelled"));
        handle.dispatched().whenComplete((ignored, failure) -> {
            if (failure == null) {
                stream.send(ExecEvent.newBuilder().setAccepted(TaskInfo.newBuilder()
                        .setTaskId(handle.taskId()).setNodeId(handle.nodeId()).setKind("command").setSummary(command.summary())
                        .setState(dev.meshhub.proto.v1.TaskState.DISPATCHED)).build());
            }
        });
        handle.result().whenComplete((result, failure) -> {
            if (failure != null) {
                Throwable cause = EnrollmentStatuses.unwrap(failure);
                stream.fail(cause instanceof DispatchException e ? DispatchStatuses.of(e)
                        : Status.INTERNAL.withDescription("the task failed inside the hub; see the hub log"));
                return;
            }
            TaskInfo.Builder finished = TaskInfo.newBuilder()
                    .setTaskId(result.taskId()).setNodeId(result.nodeId()).setKind("command").setSummary(command.summary())
                    .setState(TaskMessages.toWire(result.state())).setDiagnostic(result.diagnostic());
            if (result.exitCode() != null) {
                finished.setExitCode(result.exitCode());
            }
            stream.send(ExecEvent.newBuilder().setFinished(finished).build());
            stream.complete();
        });
    }

    @Override
    public void listTasks(ListTasksRequest request, StreamObserver<ListTasksResponse> responseObserver) {
        TaskJournal tasks = journalOrFail(responseObserver);
        if (tasks == null) {
            return;
        }
        String nodeId = null;
        if (!request.getNode().isBlank()) {
            Optional<EnrolledNode> node = findNode(request.getNode());
            if (node.isEmpty()) {
                Answers.fail(responseObserver, Status.NOT_FOUND.withDescription("no node with id or name '" + request.getNode() + "'"));
                return;
            }
            nodeId = node.get().nodeId();
        }
        int limit = request.getLimit() == 0 ? 50 : (int) Math.min(1000, request.getLimit());
        TaskQuery query = new TaskQuery(nodeId, TaskMessages.fromWire(request.getState()), limit);
        answer(() -> tasks.list(query), responseObserver, records -> {
            ListTasksResponse.Builder response = ListTasksResponse.newBuilder();
            records.forEach(record -> response.addTasks(TaskMessages.toWire(record)));
            return response.build();
        });
    }

    @Override
    public void getTask(GetTaskRequest request, StreamObserver<TaskInfo> responseObserver) {
        TaskJournal tasks = journalOrFail(responseObserver);
        if (tasks == null) {
            return;
        }
        answer(() -> tasks.get(request.getTaskId()), responseObserver, record -> TaskMessages.toWire(record.orElseThrow(
                () -> Status.NOT_FOUND.withDescription("no task '" + request.getTaskId() + "'; list tasks with meshctl tasks").asRuntimeException())));
    }

    @Override
    public void cancelTask(CancelTaskRequest request, StreamObserver<CancelTaskResponse> responseObserver) {
        TaskJournal tasks = journalOrFail(responseObserver);
        if (tasks == null) {
            return;
        }
        String reason = request.getReason().isBlank() ? "cancelled by an admin" : request.getReason();
        boolean sent = dispatcher.cancel(request.getTaskId(), reason);
        answer(() -> tasks.get(request.getTaskId()), responseObserver, record -> {
            TaskRecord task = record.orElseThrow(() -> Status.NOT_FOUND.withDescription("no task '" + request.getTaskId() + "'").asRuntimeException());
            if (!sent) {
                throw Status.FAILED_PRECONDITION.withDescription("task " + task.taskId() + " has already ended (" + task.state() + ")").asRuntimeException();
            }
            return CancelTaskResponse.newBuilder().setTask(TaskMessages.toWire(task)).build();
        });
    }

    @Override
    public void getPolicy(GetPolicyRequest request, StreamObserver<PolicyInfo> responseObserver) {
        Optional<EnrolledNode> node = findNode(request.getNode());
        if (node.isEmpty()) {
            Answers.fail(responseObserver, Status.NOT_FOUND.withDescription("no node with id or name '" + request.getNode() + "'"));
            return;
        }
        Answers.complete(responseObserver, policyInfo(node.get()));
    }

    @Override
    public void setPolicy(SetPolicyRequest request, StreamObserver<PolicyInfo> responseObserver) {
        Optional<EnrolledNode> found = findNode(request.getNode());
        if (found.isEmpty()) {
            Answers.fail(responseObserver, Status.NOT_FOUND.withDescription("no node with id or name '" + request.getNode() + "'"));
            return;
        }
        EnrolledNode node = found.get();
        SandboxMode mode = switch (request.getMode()) {
            case STRICT -> SandboxMode.STRICT;
            case PERMISSIVE -> SandboxMode.PERMISSIVE;
            default -> null;
        };
        if (mode == null) {
            Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription("name the mode: STRICT or PERMISSIVE"));
            return;
        }
        if (mode == SandboxMode.PERMISSIVE && !request.getConfirm()) {
            Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription("PERMISSIVE lets node " + node.name()
                    + " run shell commands; confirm it explicitly (meshctl policy set NODE permissive --yes)"));
            return;
        }
        SandboxPolicy active = policy.get();
        PolicyAdministration administration = policyAdministration.get();
        if (active == null || administration == null || active != administration) {
            Answers.fail(responseObserver, Status.FAILED_PRECONDITION.withDescription("the active sandbox policy ("
                    + (active == null ? "none" : active.policyFor(node.nodeId(), node.name()).source())
                    + ") takes no changes at run time; change its configuration instead"));
            return;
        }
        answer(() -> administration.setMode(node.nodeId(), node.name(), mode, request.getConfirm(), "admin"), responseObserver, changed -> {
            LOG.info("policy of node {} ({}) set to {} by an admin", node.nodeId(), node.name(), mode);
            dispatcher.pushPolicies();
            return policyInfo(node);
        });
    }

    @Override
    public void listManagementTasks(ListManagementTasksRequest request, StreamObserver<ListManagementTasksResponse> responseObserver) {
        // Memory only (ManagementScheduler.tasks() never blocks): answered on the calling thread.
        ManagementScheduler tasks = scheduler.get();
        if (tasks == null) {
            Answers.fail(responseObserver, Status.FAILED_PRECONDITION.withDescription(
                    "no management scheduler is running; install/start the meshhub-scheduler feature (bundle dev.meshhub.scheduler)"));
            return;
        }
        ListManagementTasksResponse.Builder response = ListManagementTasksResponse.newBuilder();
        try {
            for (ManagementTaskStatus status : tasks.tasks()) {
                response.addTasks(ManagementMessages.toWire(status));
            }
        } catch (RuntimeException e) {
            LOG.warn("the management scheduler failed to list its tasks", e);
            Answers.fail(responseObserver, Status.INTERNAL.withDescription(
                    "the management scheduler failed to list its tasks; see the hub log"));
            return;
        }
        Answers.complete(responseObserver, response.build());
    }

    @Override
    public void getMeshStatus(GetMeshStatusRequest request, StreamObserver<MeshStatusInfo> responseObserver) {
        // Memory only (MeshStatus.latest() never blocks): answered on the calling thread.
        MeshStatus monitor = meshStatus.get();
        if (monitor == null) {
            Answers.fail(responseObserver, Status.FAILED_PRECONDITION.withDescription(
                    "no mesh monitor is running; start the meshhub-monitor feature (bundle dev.meshhub.monitor) or deploy another monitor"));
            return;
        }
        MeshStatusInfo info;
        try {
            Optional<MeshSnapshot> latest = monitor.latest();
            if (latest.isEmpty()) {
                Answers.fail(responseObserver, Status.UNAVAILABLE.withDescription(
                        "the monitor has not taken its first snapshot yet; retry in a few seconds"));
                return;
            }
            info = ManagementMessages.toWire(latest.get());
        } catch (RuntimeException e) {
            LOG.warn("the mesh monitor failed to hand out its latest snapshot", e);
            Answers.fail(responseObserver, Status.INTERNAL.withDescription(
                    "the mesh monitor failed to hand out its snapshot; see the hub log"));
            return;
        }
        Answers.complete(responseObserver, info);
    }

    private PolicyInfo policyInfo(EnrolledNode node) {
        SandboxPolicy active = policy.get();
        NodePolicy nodePolicy = null;
        if (active != null) {
            nodePolicy = active.policyFor(node.nodeId(), node.name());
        }
        return PolicyInfo.newBuilder()
                .setNodeId(node.nodeId())
                .setNodeName(node.name())
                .setPolicy(TaskMessages.toWire(nodePolicy, nodePolicy == null ? 0 : nodePolicy.revision()))
                .setSource(nodePolicy == null ? "none: no sandbox policy service is active, nothing runs" : nodePolicy.source())
                .build();
    }

    private Optional<EnrolledNode> findNode(String idOrName) {
        EnrollmentStore enrollment = store.get();
        if (enrollment == null || idOrName == null || idOrName.isBlank()) {
            return Optional.empty();
        }
        try {
            return enrollment.find(idOrName.trim());
        } catch (RuntimeException storeStopping) {
            return Optional.empty();
        }
    }

    private <T> TaskJournal journalOrFail(StreamObserver<T> observer) {
        TaskJournal tasks = journal.get();
        if (tasks == null) {
            Answers.fail(observer, Status.UNAVAILABLE.withDescription("the task journal is not available (journal stopped?); retry shortly"));
        }
        return tasks;
    }

    @Override
    public void createInvite(CreateInviteRequest request, StreamObserver<CreateInviteResponse> responseObserver) {
        EnrollmentStore enrollment = storeOrFail(responseObserver);
        if (enrollment == null) {
            return;
        }
        Duration ttl = request.getTtlSeconds() == 0 ? null
                : Duration.ofSeconds(Math.min(request.getTtlSeconds(), EnrollmentStore.MAX_INVITE_TTL.toSeconds() + 1));
        answer(() -> enrollment.createInvite(ttl, request.getNote()), responseObserver, invite -> {
            LOG.debug("invite {} created; expires {}", invite.inviteId(), invite.expiresAt());
            return CreateInviteResponse.newBuilder()
                    .setToken(invite.token())
                    .setInviteId(invite.inviteId())
                    .setExpiresAtMs(invite.expiresAt().toEpochMilli())
                    .build();
        });
    }

    @Override
    public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> responseObserver) {
        // Memory only: the live directory plus the store's cached records.
        Map<String, NodeStatus.Builder> byId = new HashMap<>();
        for (NodeSession session : sessions.connected()) {
            byId.put(session.nodeId(), NodeStatus.newBuilder()
                    .setNodeId(session.nodeId())
                    .setName(session.name())
                    .setConnected(true)
                    .setAddress(session.address())
                    .setConnectedSinceMs(session.connectedSince().toEpochMilli())
                    .setLastHeartbeatMs(session.lastHeartbeat().toEpochMilli()));
        }
        EnrollmentStore enrollment = store.get();
        List<EnrolledNode> enrolled = List.of();
        if (enrollment != null) {
            try {
                enrolled = enrollment.nodes();
            } catch (RuntimeException storeStopping) {
                // The journal is stopping: list the live sessions, which need no store.
                LOG.debug("enrolled nodes unavailable: {}", storeStopping.toString());
            }
        }
        for (EnrolledNode node : enrolled) {
            NodeStatus.Builder status = byId.get(node.nodeId());
            if (status == null && request.getIncludeOffline()) {
                status = NodeStatus.newBuilder().setNodeId(node.nodeId()).setName(node.name());
                byId.put(node.nodeId(), status);
            }
            if (status != null) {
                status.setEnrolledAtMs(node.enrolledAt().toEpochMilli()).setRevoked(node.revoked());
            }
        }
        ListNodesResponse.Builder response = ListNodesResponse.newBuilder();
        byId.values().stream()
                .map(NodeStatus.Builder::build)
                .sorted((a, b) -> a.getName().equals(b.getName()) ? a.getNodeId().compareTo(b.getNodeId()) : a.getName().compareTo(b.getName()))
                .forEach(response::addNodes);
        Answers.complete(responseObserver, response.build());
    }

    @Override
    public void revokeNode(RevokeNodeRequest request, StreamObserver<RevokeNodeResponse> responseObserver) {
        String node = request.getNode().trim();
        if (node.isEmpty()) {
            Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription("name the node to revoke by its id or name"));
            return;
        }
        EnrollmentStore enrollment = storeOrFail(responseObserver);
        if (enrollment == null) {
            return;
        }
        answer(() -> enrollment.revokeNode(node), responseObserver, revoked -> {
            boolean closed = sessions.disconnect(revoked.nodeId(), DisconnectCause.REVOKED, "revoked by an admin");
            LOG.info("node {} ({}) revoked by an admin{}", revoked.nodeId(), revoked.name(), closed ? "; live session closed" : "");
            events.post(NodeEvents.TOPIC_REVOKED, Map.of(NodeEvents.NODE_ID, revoked.nodeId(), NodeEvents.NODE_NAME, revoked.name()));
            return RevokeNodeResponse.newBuilder().setNodeId(revoked.nodeId()).setSessionClosed(closed).build();
        });
    }

    private <T> EnrollmentStore storeOrFail(StreamObserver<T> observer) {
        EnrollmentStore enrollment = store.get();
        if (enrollment == null) {
            Answers.fail(observer, Status.UNAVAILABLE.withDescription(
                    "the hub's enrollment store is not available (journal stopped?); retry shortly"));
        }
        return enrollment;
    }

    /** Runs a store operation and answers from the thread that completes it. */
    private static <S, T> void answer(Supplier<CompletionStage<S>> operation, StreamObserver<T> observer, Function<S, T> toResponse) {
        CompletableFuture<S> pending;
        try {
            pending = operation.get().toCompletableFuture().copy();
        } catch (RuntimeException e) {
            pending = CompletableFuture.failedFuture(e);
        }
        pending.orTimeout(STORE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).whenComplete(responder(observer, toResponse));
    }

    private static <S, T> BiConsumer<S, Throwable> responder(StreamObserver<T> observer, Function<S, T> toResponse) {
        return (result, failure) -> {
            if (failure == null) {
                T response;
                try {
                    response = toResponse.apply(result);
                } catch (StatusRuntimeException explicit) {
                    Answers.fail(observer, explicit.getStatus());
                    return;
                } catch (RuntimeException e) {
                    LOG.warn("admin call failed while answering", e);
                    Answers.fail(observer, Status.INTERNAL.withDescription("admin call failed inside the hub; see the hub log"));
                    return;
                }
                Answers.complete(observer, response);
                return;
            }
            Throwable cause = EnrollmentStatuses.unwrap(failure);
            if (cause instanceof StatusRuntimeException explicit) {
                Answers.fail(observer, explicit.getStatus());
                return;
            }
            Status status = EnrollmentStatuses.of(cause);
            if (cause instanceof EnrollmentException e && e.reason() == EnrollmentException.Reason.UNKNOWN) {
                // For an admin, an unknown node is "not found", not an authentication failure.
                status = Status.NOT_FOUND.withDescription(e.getMessage());
            }
            if (status == null && cause instanceof IllegalArgumentException invalid) {
                status = Status.INVALID_ARGUMENT.withDescription(invalid.getMessage());
            } else if (status == null && cause instanceof IllegalStateException unavailable) {
                status = Status.UNAVAILABLE.withDescription(unavailable.getMessage());
            }
            if (status == null) {
                LOG.warn("admin call failed", cause);
                status = Status.INTERNAL.withDescription("admin call failed inside the hub; see the hub log");
            } else if (status.getDescription() == null) {
                status = status.withDescription("the hub's database did not answer within " + STORE_TIMEOUT.toSeconds() + " s; retry later");
            }
            Answers.fail(observer, status);
        };
    }
}
