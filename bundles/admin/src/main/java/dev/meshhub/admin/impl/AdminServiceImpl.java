package dev.meshhub.admin.impl;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.monitor.MeshStatus;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.PolicyAdministration;
import dev.meshhub.api.policy.SandboxMode;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.CancelTaskRequest;
import dev.meshhub.proto.v1.CancelTaskResponse;
import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.CreateInviteResponse;
import dev.meshhub.proto.v1.GetHubTrustRequest;
import dev.meshhub.proto.v1.HubTrustInfo;
import dev.meshhub.proto.v1.ExecEvent;
import dev.meshhub.proto.v1.ExecRequest;
import dev.meshhub.proto.v1.GetHealthRequest;
import dev.meshhub.proto.v1.GetMeshStatusRequest;
import dev.meshhub.proto.v1.HealthInfo;
import dev.meshhub.proto.v1.GetPolicyRequest;
import dev.meshhub.proto.v1.GetTaskRequest;
import dev.meshhub.proto.v1.ListManagementTasksRequest;
import dev.meshhub.proto.v1.ListManagementTasksResponse;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.ListNodesResponse;
import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.ListTasksResponse;
import dev.meshhub.proto.v1.MeshStatusInfo;
import dev.meshhub.proto.v1.NodeStatus;
import dev.meshhub.proto.v1.PolicyInfo;
import dev.meshhub.proto.v1.ReadTaskOutputRequest;
import dev.meshhub.proto.v1.TaskOutputEvent;
import dev.meshhub.proto.v1.RemoveNodeRequest;
import dev.meshhub.proto.v1.RemoveNodeResponse;
import dev.meshhub.proto.v1.RevokeNodeRequest;
import dev.meshhub.proto.v1.RotateCaRequest;
import dev.meshhub.proto.v1.RevokeNodeResponse;
import dev.meshhub.proto.v1.SetPolicyRequest;
import dev.meshhub.proto.v1.SyncEvent;
import dev.meshhub.proto.v1.SyncPullRequest;
import dev.meshhub.proto.v1.SyncPushRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.server.support.Answers;
import dev.meshhub.server.wire.TaskMessages;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * The admin API, answered from meshhub's API services ({@link HubServices}) only. It never blocks:
 * storage work completes on the services' threads ({@link StoreAnswers}); memory-only calls answer on
 * the calling thread. Exec and file transfers stream through {@link ExecCalls} and {@link TransferCalls}.
 */
final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServiceImpl.class);

    private final HubServices services;
    private final ExecCalls exec;
    private final TransferCalls transfers;
    private final TrustCalls trust;
    private final BlockingCalls blocking = new BlockingCalls();
    private final HealthCalls health;
    private final NodeCalls nodes;
    private final OutputCalls output;

    AdminServiceImpl(HubServices services, LongCalls longCalls, LongSupplier execBufferBytes, java.util.concurrent.Executor logReads) {
        this.services = services;
        this.exec = new ExecCalls(services, longCalls, execBufferBytes);
        this.transfers = new TransferCalls(services, longCalls);
        this.trust = new TrustCalls(services);
        this.health = new HealthCalls(services, blocking);
        this.nodes = new NodeCalls(services);
        this.output = new OutputCalls(services, longCalls, logReads);
    }

    @Override
    public void readTaskOutput(ReadTaskOutputRequest request, StreamObserver<TaskOutputEvent> responseObserver) {
        output.read(request, responseObserver);
    }

    @Override
    public void exec(ExecRequest request, StreamObserver<ExecEvent> responseObserver) {
        exec.exec(request, responseObserver);
    }

    @Override
    public void syncPull(SyncPullRequest request, StreamObserver<SyncEvent> responseObserver) {
        transfers.pull(request, responseObserver);
    }

    @Override
    public void syncPush(SyncPushRequest request, StreamObserver<SyncEvent> responseObserver) {
        transfers.push(request, responseObserver);
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
        StoreAnswers.answer(() -> tasks.list(query), responseObserver, records -> {
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
        StoreAnswers.answer(() -> tasks.get(request.getTaskId()), responseObserver, record -> TaskMessages.toWire(record.orElseThrow(
                () -> Status.NOT_FOUND.withDescription("no task '" + request.getTaskId() + "'; list tasks with meshctl tasks").asRuntimeException())));
    }

    @Override
    public void cancelTask(CancelTaskRequest request, StreamObserver<CancelTaskResponse> responseObserver) {
        TaskJournal tasks = journalOrFail(responseObserver);
        if (tasks == null) {
            return;
        }
        String reason = request.getReason().isBlank() ? "cancelled by an admin" : request.getReason();
        TaskDispatcher dispatcher = services.dispatcher();
        boolean sent = dispatcher != null && dispatcher.cancel(request.getTaskId(), reason);
        StoreAnswers.answer(() -> tasks.get(request.getTaskId()), responseObserver, record -> {
            TaskRecord task = record.orElseThrow(() -> Status.NOT_FOUND.withDescription("no task '" + request.getTaskId() + "'").asRuntimeException());
            if (!sent && dispatcher == null && !task.state().isTerminal()) {
                throw Status.UNAVAILABLE.withDescription("the hub's transport is not running, so task " + task.taskId()
                        + " cannot be reached; retry shortly").asRuntimeException();
            }
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
        SandboxPolicy active = services.policy();
        PolicyAdministration administration = services.policyAdministration();
        if (active == null || administration == null || active != administration) {
            Answers.fail(responseObserver, Status.FAILED_PRECONDITION.withDescription("the active sandbox policy ("
                    + (active == null ? "none" : active.policyFor(node.nodeId(), node.name()).source())
                    + ") takes no changes at run time; change its configuration instead"));
            return;
        }
        StoreAnswers.answer(() -> administration.setMode(node.nodeId(), node.name(), mode, request.getConfirm(), "admin"), responseObserver, changed -> {
            // The policy posts its change; the transport pushes it to the node.
            LOG.info("policy of node {} ({}) set to {} by an admin", node.nodeId(), node.name(), mode);
            return policyInfo(node);
        });
    }

    @Override
    public void listManagementTasks(ListManagementTasksRequest request, StreamObserver<ListManagementTasksResponse> responseObserver) {
        // Memory only (ManagementScheduler.tasks() never blocks): answered on the calling thread.
        ManagementScheduler tasks = services.scheduler();
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
    public void getHubTrust(GetHubTrustRequest request, StreamObserver<HubTrustInfo> responseObserver) {
        trust.getHubTrust(responseObserver);
    }

    @Override
    public void rotateCa(RotateCaRequest request, StreamObserver<HubTrustInfo> responseObserver) {
        trust.rotateCa(request, responseObserver);
    }

    @Override
    public void getHealth(GetHealthRequest request, StreamObserver<HealthInfo> responseObserver) {
        health.getHealth(responseObserver);
    }

    @Override
    public void getMeshStatus(GetMeshStatusRequest request, StreamObserver<MeshStatusInfo> responseObserver) {
        MeshStatus monitor = services.meshStatus();
        if (monitor == null) {
            Answers.fail(responseObserver, Status.FAILED_PRECONDITION.withDescription(
                    "no mesh monitor is running; start the meshhub-monitor feature (bundle dev.meshhub.monitor) or deploy another monitor"));
            return;
        }
        if (request.getFresh()) {
            // A fresh snapshot reads the journal: off the gRPC thread.
            blocking.run("mesh status", responseObserver, () -> snapshotInfo(monitor.fresh()));
            return;
        }
        // Memory only (MeshStatus.latest() never blocks): answered on the calling thread.
        MeshStatusInfo info;
        try {
            info = snapshotInfo(monitor.latest());
        } catch (io.grpc.StatusRuntimeException e) {
            Answers.fail(responseObserver, e.getStatus());
            return;
        } catch (RuntimeException e) {
            LOG.warn("the mesh monitor failed to hand out its latest snapshot", e);
            Answers.fail(responseObserver, Status.INTERNAL.withDescription(
                    "the mesh monitor failed to hand out its snapshot; see the hub log"));
            return;
        }
        Answers.complete(responseObserver, info);
    }

    private static MeshStatusInfo snapshotInfo(Optional<MeshSnapshot> snapshot) {
        if (snapshot.isEmpty()) {
            throw Status.UNAVAILABLE.withDescription("the monitor has not taken its first snapshot yet; retry in a few seconds")
                    .asRuntimeException();
        }
        return ManagementMessages.toWire(snapshot.get());
    }

    private PolicyInfo policyInfo(EnrolledNode node) {
        SandboxPolicy active = services.policy();
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
        EnrollmentStore enrollment = services.enrollment();
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
        TaskJournal tasks = services.journal();
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
        StoreAnswers.answer(() -> enrollment.createInvite(ttl, request.getNote()), responseObserver, invite -> {
            LOG.debug("invite {} created; expires {}", invite.inviteId(), invite.expiresAt());
            return TrustInfo.addTo(CreateInviteResponse.newBuilder()
                    .setToken(invite.token())
                    .setInviteId(invite.inviteId())
                    .setExpiresAtMs(invite.expiresAt().toEpochMilli()), services.pki())
                    .build();
        });
    }

    @Override
    public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> responseObserver) {
        // Memory only: the live directory plus the store's cached records.
        Map<String, NodeStatus.Builder> byId = new HashMap<>();
        NodeDirectory directory = services.nodes();
        for (NodeSession session : directory == null ? List.<NodeSession>of() : directory.connected()) {
            byId.put(session.nodeId(), NodeStatus.newBuilder()
                    .setNodeId(session.nodeId())
                    .setName(session.name())
                    .setConnected(true)
                    .setAddress(session.address())
                    .setConnectedSinceMs(session.connectedSince().toEpochMilli())
                    .setLastHeartbeatMs(session.lastHeartbeat().toEpochMilli())
                    .setTakeovers(session.takeovers())
                    .setLastTakeoverAddress(session.lastTakeoverAddress())
                    .setConfinement(session.confinement()));
        }
        EnrollmentStore enrollment = services.enrollment();
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
        nodes.revoke(request, responseObserver);
    }

    @Override
    public void removeNode(RemoveNodeRequest request, StreamObserver<RemoveNodeResponse> responseObserver) {
        nodes.remove(request, responseObserver);
    }

    private <T> EnrollmentStore storeOrFail(StreamObserver<T> observer) {
        return NodeCalls.storeOrFail(services, observer);
    }

}
