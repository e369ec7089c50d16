package dev.meshhub.console.impl;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import dev.meshhub.api.audit.AuditLog;
import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.enrollment.IssuedInvite;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.node.DisconnectCause;
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
import dev.meshhub.api.task.TaskState;

/**
 * The console's JSON API, over meshhub's services (each may be away: the call then answers 503 naming
 * the feature to start). Reads are paged and bounded; the two actions (revoke a node, cancel a task)
 * are audited with actor {@code console}. Runs on Jetty's threads, never on gRPC's: a journal read is
 * waited for at most {@value #WAIT_SECONDS} s.
 */
final class ConsoleApi {

    static final int WAIT_SECONDS = 5;
    static final int MAX_PAGE = 500;

    /** An answer: the HTTP status and the body to send as JSON. */
    record Answer(int status, Object body) {
        static Answer ok(Object body) {
            return new Answer(200, body);
        }

        static Answer problem(int status, String message) {
            return new Answer(status, Map.of("error", message));
        }
    }

    /** The services the console reads and acts through; each supplier may return null. */
    record Services(Supplier<EnrollmentStore> enrollment, Supplier<NodeDirectory> nodes, Supplier<SandboxPolicy> policy,
                    Supplier<TaskJournal> journal, Supplier<TaskDispatcher> dispatcher, Supplier<LockRegistry> locks,
                    Supplier<ManagementScheduler> scheduler, Supplier<AuditLog> audit, java.util.function.BiConsumer<String, Map<String, Object>> events,
                    Supplier<PolicyAdministration> policyAdministration, Supplier<HubPki> pki,
                    Supplier<dev.meshhub.api.sync.FileTransfers> transfers) {
    }

    private final Services services;

    ConsoleApi(Services services) {
        this.services = services;
    }

    /** GET {@code /console/api/<path>}. */
    Answer get(String path, Map<String, String> query) throws InterruptedException {
        List<String> parts = List.of(path.split("/"));
        return switch (parts.get(0)) {
            case "nodes" -> nodes(query);
            case "tasks" -> parts.size() == 2 ? task(parts.get(1)) : tasks(query);
            case "locks" -> locks();
            case "management" -> management();
            case "audit" -> audit(query);
            case "transfers" -> transfers();
            default -> Answer.problem(404, "no such view: " + path);
        };
    }

    /** POST {@code /console/api/<path>}, by {@code actor} (for the audit trail), with the URL's query parameters. */
    Answer post(String path, String actor, Map<String, String> query) throws InterruptedException {
        List<String> parts = List.of(path.split("/"));
        if (parts.size() == 1 && parts.get(0).equals("invites")) {
            return invite(query, actor);
        }
        if (parts.size() == 3 && parts.get(0).equals("nodes") && parts.get(2).equals("policy")) {
            return setMode(parts.get(1), query, actor);
        }
        if (parts.size() == 3 && parts.get(0).equals("nodes") && parts.get(2).equals("revoke")) {
            return revoke(parts.get(1), actor);
        }
        if (parts.size() == 3 && parts.get(0).equals("tasks") && parts.get(2).equals("cancel")) {
            return cancel(parts.get(1), actor);
        }
        return Answer.problem(404, "no such action: " + path);
    }

    private Answer nodes(Map<String, String> query) {
        EnrollmentStore enrollment = services.enrollment().get();
        NodeDirectory directory = services.nodes().get();
        if (enrollment == null) {
            return Answer.problem(503, "the enrollment store is not running (feature meshhub-journal)");
        }
        String filter = query.getOrDefault("q", "").trim().toLowerCase(Locale.ROOT);
        int offset = bounded(query.get("offset"), 0, Integer.MAX_VALUE, 0);
        int limit = bounded(query.get("limit"), 1, MAX_PAGE, 100);
        SandboxPolicy policy = services.policy().get();
        List<EnrolledNode> matching = new ArrayList<>();
        for (EnrolledNode node : enrollment.nodes()) {
            if (filter.isEmpty() || node.name().toLowerCase(Locale.ROOT).contains(filter) || node.nodeId().contains(filter)) {
                matching.add(node);
            }
        }
        matching.sort(Comparator.comparing(EnrolledNode::name));
        List<Map<String, Object>> page = new ArrayList<>();
        for (EnrolledNode node : matching.subList(Math.min(offset, matching.size()), Math.min(offset + limit, matching.size()))) {
            Optional<NodeSession> session = directory == null ? Optional.empty() : directory.session(node.nodeId());
            NodePolicy mode = null;
            if (policy != null) {
                try {
                    mode = policy.policyFor(node.nodeId(), node.name());
                } catch (RuntimeException e) {
                    mode = null;
                }
            }
            page.add(ConsoleViews.node(node, session, mode));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("total", matching.size());
        body.put("connected", directory == null ? 0 : directory.connected().size());
        body.put("offset", offset);
        body.put("nodes", page);
        return Answer.ok(body);
    }

    private Answer tasks(Map<String, String> query) throws InterruptedException {
        TaskJournal journal = services.journal().get();
        if (journal == null) {
            return Answer.problem(503, "the task journal is not running (feature meshhub-journal)");
        }
        String node = query.getOrDefault("node", "").trim();
        String nodeId = null;
        if (!node.isEmpty()) {
            EnrollmentStore enrollment = services.enrollment().get();
            nodeId = enrollment == null ? node : enrollment.find(node).map(EnrolledNode::nodeId).orElse(node);
        }
        TaskState state;
        try {
            String asked = query.getOrDefault("state", "").trim();
            state = asked.isEmpty() ? null : TaskState.valueOf(asked.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Answer.problem(400, "unknown state " + query.get("state") + "; one of " + List.of(TaskState.values()));
        }
        int limit = bounded(query.get("limit"), 1, MAX_PAGE, 100);
        List<Map<String, Object>> tasks = new ArrayList<>();
        for (TaskRecord task : await(journal.list(new TaskQuery(nodeId, state, limit)))) {
            tasks.add(ConsoleViews.task(task, false));
        }
        return Answer.ok(Map.of("tasks", tasks));
    }

    private Answer task(String id) throws InterruptedException {
        TaskJournal journal = services.journal().get();
        if (journal == null) {
            return Answer.problem(503, "the task journal is not running (feature meshhub-journal)");
        }
        Optional<TaskRecord> task = await(journal.get(id));
        return task.isEmpty() ? Answer.problem(404, "no task " + id) : Answer.ok(ConsoleViews.task(task.get(), true));
    }

    private Answer locks() {
        LockRegistry locks = services.locks().get();
        return locks == null ? Answer.problem(503, "the lock registry is not running (feature meshhub-locks)")
                : Answer.ok(Map.of("locks", ConsoleViews.locks(locks.locks())));
    }

    private Answer management() {
        ManagementScheduler scheduler = services.scheduler().get();
        if (scheduler == null) {
            return Answer.problem(503, "the management scheduler is not running (feature meshhub-scheduler)");
        }
        return Answer.ok(Map.of("tasks", scheduler.tasks().stream().map(ConsoleViews::management).toList()));
    }

    private Answer transfers() {
        dev.meshhub.api.sync.FileTransfers transfers = services.transfers().get();
        if (transfers == null) {
            return Answer.problem(503, "file sync is not running (feature meshhub-transport)");
        }
        EnrollmentStore enrollment = services.enrollment().get();
        List<Map<String, Object>> views = new ArrayList<>();
        for (dev.meshhub.api.sync.TransferProgress transfer : transfers.inProgress()) {
            Map<String, Object> view = new LinkedHashMap<>();
            view.put("id", transfer.id());
            view.put("direction", transfer.direction());
            view.put("nodeId", transfer.nodeId());
            view.put("nodeName", enrollment == null ? null : enrollment.find(transfer.nodeId()).map(EnrolledNode::name).orElse(null));
            view.put("path", transfer.path());
            view.put("bytes", transfer.bytes());
            view.put("totalSize", transfer.totalSize());
            view.put("startedAt", ConsoleViews.iso(transfer.startedAt()));
            views.add(view);
        }
        return Answer.ok(Map.of("transfers", views));
    }

    private Answer audit(Map<String, String> query) throws InterruptedException {
        AuditLog audit = services.audit().get();
        if (audit == null) {
            return Answer.problem(503, "the audit trail is not running (feature meshhub-journal)");
        }
        List<Map<String, Object>> entries = new ArrayList<>();
        for (dev.meshhub.api.audit.AuditEntry entry : await(audit.recent(bounded(query.get("limit"), 1, MAX_PAGE, 100)))) {
            Map<String, Object> view = new LinkedHashMap<>();
            view.put("id", entry.id());
            view.put("at", ConsoleViews.iso(entry.at()));
            view.put("actor", entry.actor());
            view.put("action", entry.action());
            view.put("subject", entry.subject());
            view.put("detail", entry.detail());
            entries.add(view);
        }
        return Answer.ok(Map.of("entries", entries));
    }

    private Answer revoke(String node, String actor) throws InterruptedException {
        EnrollmentStore enrollment = services.enrollment().get();
        if (enrollment == null) {
            return Answer.problem(503, "the enrollment store is not running (feature meshhub-journal)");
        }
        EnrolledNode revoked;
        try {
            revoked = await(enrollment.revokeNode(node));
        } catch (IllegalStateException e) {
            return Answer.problem(400, "cannot revoke " + node + ": " + e.getMessage());
        }
        NodeDirectory directory = services.nodes().get();
        boolean closed = directory != null && directory.disconnect(revoked.nodeId(), DisconnectCause.REVOKED, "revoked by an admin (web console)");
        services.events().accept(dev.meshhub.api.node.NodeEvents.TOPIC_REVOKED, Map.of(dev.meshhub.api.node.NodeEvents.NODE_ID,
                revoked.nodeId(), dev.meshhub.api.node.NodeEvents.NODE_NAME, revoked.name()));
        audit(actor, "node.revoke", revoked.nodeId(), "revoked " + revoked.name() + " from the web console"
                + (closed ? "; live session closed" : ""));
        return Answer.ok(Map.of("id", revoked.nodeId(), "name", revoked.name(), "sessionClosed", closed));
    }

    private Answer cancel(String taskId, String actor) {
        TaskDispatcher dispatcher = services.dispatcher().get();
        if (dispatcher == null) {
            return Answer.problem(503, "the dispatcher is not running (feature meshhub-transport)");
        }
        if (!dispatcher.cancel(taskId, "cancelled by an admin (web console)")) {
            return Answer.problem(409, "task " + taskId + " is not running on this hub (unknown, or already ended)");
        }
        audit(actor, "task.cancel", taskId, "cancelled from the web console");
        return Answer.ok(Map.of("id", taskId, "cancelling", true));
    }

    /** A new invite: its token is in this answer only (the journal keeps a hash), with the CA pin a node checks. */
    private Answer invite(Map<String, String> query, String actor) throws InterruptedException {
        EnrollmentStore enrollment = services.enrollment().get();
        if (enrollment == null) {
            return Answer.problem(503, "the enrollment store is not running (feature meshhub-journal)");
        }
        int minutes = bounded(query.get("ttlMinutes"), 1, (int) EnrollmentStore.MAX_INVITE_TTL.toMinutes(), 60);
        String note = query.getOrDefault("note", "").strip();
        if (note.length() > 200) {
            return Answer.problem(400, "the note is " + note.length() + " characters; at most 200");
        }
        IssuedInvite invite = await(enrollment.createInvite(java.time.Duration.ofMinutes(minutes), note));
        HubPki pki = services.pki().get();
        audit(actor, "invite.create", invite.inviteId(), "created from the web console, valid " + minutes + " min"
                + (note.isEmpty() ? "" : ": " + note));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("inviteId", invite.inviteId());
        body.put("token", invite.token());
        body.put("expiresAt", ConsoleViews.iso(invite.expiresAt()));
        body.put("caPin", pki == null ? null : pki.caPin());
        return Answer.ok(body);
    }

    /** A node's sandbox mode; PERMISSIVE only with {@code confirm=<the node's name>}, as meshctl's --yes. */
    private Answer setMode(String node, Map<String, String> query, String actor) throws InterruptedException {
        PolicyAdministration administration = services.policyAdministration().get();
        EnrollmentStore enrollment = services.enrollment().get();
        if (administration == null || enrollment == null) {
            return Answer.problem(503, "the policy or the enrollment store is not running (features meshhub-policy, meshhub-journal)");
        }
        Optional<EnrolledNode> known = enrollment.find(node);
        if (known.isEmpty()) {
            return Answer.problem(404, "no node " + node);
        }
        SandboxMode mode;
        try {
            mode = SandboxMode.valueOf(query.getOrDefault("mode", "").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Answer.problem(400, "mode must be one of " + List.of(SandboxMode.values()));
        }
        boolean confirmed = known.get().name().equals(query.get("confirm"));
        if (mode == SandboxMode.PERMISSIVE && !confirmed) {
            return Answer.problem(400, "PERMISSIVE lets " + known.get().name() + " run any program unconfined; confirm with the"
                    + " node's name");
        }
        try {
            NodePolicy policy = await(administration.setMode(known.get().nodeId(), known.get().name(), mode, confirmed, actor));
            return Answer.ok(Map.of("id", known.get().nodeId(), "mode", policy.mode().name()));
        } catch (IllegalArgumentException e) {
            return Answer.problem(400, e.getMessage());
        }
    }

    private void audit(String actor, String action, String subject, String detail) {
        AuditLog audit = services.audit().get();
        if (audit != null) {
            audit.record(actor, action, subject, detail);
        }
    }

    private static <T> T await(CompletionStage<T> stage) throws InterruptedException {
        try {
            return stage.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause() == null ? e.getMessage() : e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the journal did not answer within " + WAIT_SECONDS + " s; retry shortly", e);
        }
    }

    static int bounded(String value, int min, int max, int fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Math.max(min, Math.min(max, Integer.parseInt(value.trim())));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
