package dev.meshhub.console.impl;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.lock.LockInfo;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.task.TaskRecord;

/** What the console shows of meshhub's records, as JSON-ready maps (times as ISO-8601 UTC strings, absent as null). */
final class ConsoleViews {

    /** Output shown in a task's detail: the journal's tail, at most this many bytes. */
    static final int OUTPUT_BYTES = 64 * 1024;

    private ConsoleViews() {
    }

    static Map<String, Object> node(EnrolledNode node, Optional<NodeSession> session, NodePolicy policy) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", node.nodeId());
        view.put("name", node.name());
        view.put("revoked", node.revoked());
        view.put("connected", session.isPresent());
        view.put("address", session.map(NodeSession::address).orElse(null));
        view.put("connectedSince", session.map(s -> iso(s.connectedSince())).orElse(null));
        view.put("lastHeartbeat", session.map(s -> iso(s.lastHeartbeat())).orElse(null));
        view.put("confinement", session.map(NodeSession::confinement).orElse(null));
        view.put("mode", policy == null ? null : policy.mode().name());
        view.put("enrolledAt", iso(node.enrolledAt()));
        return view;
    }

    static Map<String, Object> task(TaskRecord task, boolean withOutput) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", task.taskId());
        view.put("nodeId", task.nodeId());
        view.put("nodeName", task.nodeName());
        view.put("kind", task.kind());
        view.put("summary", task.summary());
        view.put("state", task.state().name());
        view.put("createdAt", iso(task.createdAt()));
        view.put("finishedAt", iso(task.finishedAt()));
        view.put("exitCode", task.exitCode());
        view.put("diagnostic", task.diagnostic());
        if (withOutput) {
            byte[] tail = task.outputTail() == null ? new byte[0] : task.outputTail();
            int from = Math.max(0, tail.length - OUTPUT_BYTES);
            view.put("output", new String(tail, from, tail.length - from, StandardCharsets.UTF_8));
        }
        return view;
    }

    static List<Map<String, Object>> locks(List<LockInfo> locks) {
        List<Map<String, Object>> views = new ArrayList<>();
        for (LockInfo lock : locks) {
            Map<String, Object> view = new LinkedHashMap<>();
            view.put("key", lock.key());
            view.put("owner", lock.owner());
            view.put("acquiredAt", iso(lock.acquiredAt()));
            view.put("expiresAt", iso(lock.expiresAt()));
            views.add(view);
        }
        return views;
    }

    static Map<String, Object> management(ManagementTaskStatus task) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", task.name());
        view.put("bundle", task.bundle());
        view.put("state", task.state().name());
        view.put("period", task.period() == null ? null : task.period().toString());
        view.put("runs", task.runs());
        view.put("failures", task.failures());
        view.put("timeouts", task.timeouts());
        view.put("lastStart", iso(task.lastStart()));
        view.put("lastOutcome", task.lastOutcome() == null ? null : task.lastOutcome().name().toLowerCase(Locale.ROOT));
        view.put("lastError", task.lastError());
        view.put("nextRun", iso(task.nextRun()));
        return view;
    }

    static String iso(Instant instant) {
        return instant == null ? null : instant.toString();
    }
}
