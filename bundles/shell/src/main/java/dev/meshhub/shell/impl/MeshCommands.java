package dev.meshhub.shell.impl;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.enrollment.IssuedInvite;
import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeSession;

/**
 * Gogo commands for admins, in scope {@code mesh}. They run on the shell's own thread, so waiting
 * for the store's answer (bounded) is fine here.
 */
@Component(service = MeshCommands.class, property = {
        "osgi.command.scope=mesh",
        "osgi.command.function=invite",
        "osgi.command.function=nodes",
        "osgi.command.function=revoke"})
public class MeshCommands {

    static final Duration WAIT = Duration.ofSeconds(10);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile EnrollmentStore enrollmentStore;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile NodeDirectory nodeDirectory;

    public MeshCommands() {
    }

    MeshCommands(EnrollmentStore store, NodeDirectory directory) {
        this.enrollmentStore = store;
        this.nodeDirectory = directory;
    }

    @Descriptor("create a single-use invite token for a new node; prints the token (shown once)")
    public String invite(
            @Descriptor("time to live, e.g. 90s, 30m, 1h, 2h30m, 1d (default 1h, at most 24h)")
            @Parameter(names = {"-t", "--ttl"}, absentValue = "") String ttl,
            @Descriptor("free text recorded with the invite")
            @Parameter(names = {"-n", "--note"}, absentValue = "") String note) throws Exception {
        Duration parsed = ttl.isEmpty() ? null : TtlFormat.parse(ttl);
        IssuedInvite invite = await(store().createInvite(parsed, note).toCompletableFuture());
        return invite.token();
    }

    @Descriptor("list connected nodes (with --all, enrolled and revoked ones too)")
    public void nodes(
            @Descriptor("include offline and revoked nodes")
            @Parameter(names = {"-a", "--all"}, presentValue = "true", absentValue = "false") boolean all) {
        print(System.out, all);
    }

    void print(PrintStream out, boolean all) {
        NodeDirectory directory = nodeDirectory;
        Map<String, NodeSession> live = directory == null ? Map.of()
                : directory.connected().stream().collect(Collectors.toMap(NodeSession::nodeId, Function.identity()));
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ID", "NAME", "STATE", "ADDRESS", "CONNECTED-SINCE", "LAST-HEARTBEAT"});
        if (all) {
            EnrollmentStore store = enrollmentStore;
            for (EnrolledNode node : store == null ? List.<EnrolledNode>of() : store.nodes()) {
                NodeSession session = live.get(node.nodeId());
                rows.add(row(node.nodeId(), node.name(), node.revoked() ? "revoked" : session != null ? "connected" : "offline", session));
            }
        } else {
            live.values().stream()
                    .sorted((a, b) -> a.name().compareTo(b.name()))
                    .forEach(session -> rows.add(row(session.nodeId(), session.name(), "connected", session)));
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(String.format("%-" + (widths[i] + 2) + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    private static String[] row(String id, String name, String state, NodeSession session) {
        return new String[] {id, name, state,
                session == null ? "-" : session.address(),
                session == null ? "-" : format(session.connectedSince()),
                session == null ? "-" : format(session.lastHeartbeat())};
    }

    private static String format(Instant instant) {
        return instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    @Descriptor("revoke a node: its credential stops working and its live session is closed")
    public String revoke(@Descriptor("the node's id or name") String node) throws Exception {
        EnrolledNode revoked = await(store().revokeNode(node).toCompletableFuture());
        NodeDirectory directory = nodeDirectory;
        boolean closed = directory != null && directory.disconnect(revoked.nodeId(), DisconnectCause.REVOKED, "revoked by an admin");
        return "revoked " + revoked.nodeId() + " (" + revoked.name() + ")" + (closed ? "; live session closed" : "; it was not connected");
    }

    private EnrollmentStore store() {
        EnrollmentStore store = enrollmentStore;
        if (store == null) {
            throw new IllegalStateException("the enrollment store is not available (is the journal bundle running?)");
        }
        return store;
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> future) throws Exception {
        try {
            return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof EnrollmentException enrollment) {
                // Gogo prints the message of what a command throws: keep it the store's clear sentence.
                throw new IllegalArgumentException(enrollment.getMessage(), enrollment);
            }
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (TimeoutException e) {
            throw new IllegalStateException("the journal did not answer within " + WAIT.toSeconds() + " s; is the database stalled?");
        }
    }
}
