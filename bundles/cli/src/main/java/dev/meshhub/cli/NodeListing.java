package dev.meshhub.cli;

import dev.meshhub.proto.v1.NodeStatus;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** Renders {@code meshctl nodes}: an aligned text table or a JSON array. */
final class NodeListing {

    private static final DateTimeFormatter ISO_SECONDS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private NodeListing() {
    }

    /** ISO-8601 UTC with seconds precision, or null for 0 (never happened / not connected). */
    static String iso(long epochMillis) {
        return epochMillis <= 0 ? null : ISO_SECONDS.format(Instant.ofEpochMilli(epochMillis));
    }

    static String state(NodeStatus n) {
        return n.getRevoked() ? "revoked" : n.getConnected() ? "connected" : "offline";
    }

    /**
     * Columns ID NAME ADDRESS CONNECTED-SINCE LAST-HEARTBEAT CONFINEMENT ("bwrap", "UNCONFINED", or
     * "-" offline or not said), plus STATE with {@code --all}, plus
     * TAKEOVERS ("count,last=ADDRESS") when a second session ever contended for a listed node.
     */
    static String table(List<NodeStatus> nodes, boolean withState) {
        boolean contended = nodes.stream().anyMatch(n -> n.getTakeovers() > 0);
        List<String> header = new ArrayList<>(List.of("ID", "NAME", "ADDRESS", "CONNECTED-SINCE", "LAST-HEARTBEAT", "CONFINEMENT"));
        if (withState) {
            header.add("STATE");
        }
        if (contended) {
            header.add("TAKEOVERS");
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(header.toArray(new String[0]));
        for (NodeStatus n : nodes) {
            List<String> row = new ArrayList<>(List.of(dash(n.getNodeId()), dash(n.getName()), dash(n.getAddress()),
                    dash(iso(n.getConnectedSinceMs())), dash(iso(n.getLastHeartbeatMs())), confinement(n)));
            if (withState) {
                row.add(state(n));
            }
            if (contended) {
                row.add(n.getTakeovers() == 0 ? "0" : dash(n.getTakeovers() + ",last=" + n.getLastTakeoverAddress()));
            }
            rows.add(row.toArray(new String[0]));
        }
        return Table.render(rows);
    }

    /** The confinement mark: what STRICT means on this node at a glance (the reason is in --json). */
    static String confinement(NodeStatus n) {
        String said = n.getConfinement();
        if (said.isEmpty()) {
            return "-";
        }
        return said.startsWith("unconfined") ? "UNCONFINED" : said;
    }

    /** A JSON array of {id, name, connected, address, connectedSince, lastHeartbeat, enrolledAt, revoked, takeovers, lastTakeoverAddress}. */
    static String json(List<NodeStatus> nodes) {
        JsonWriter w = new JsonWriter().beginArray();
        for (NodeStatus n : nodes) {
            w.newline().beginObject()
                    .name("id").value(n.getNodeId())
                    .name("name").value(n.getName())
                    .name("connected").value(n.getConnected())
                    .name("address").value(n.getAddress().isEmpty() ? null : n.getAddress())
                    .name("connectedSince").value(iso(n.getConnectedSinceMs()))
                    .name("lastHeartbeat").value(iso(n.getLastHeartbeatMs()))
                    .name("enrolledAt").value(iso(n.getEnrolledAtMs()))
                    .name("revoked").value(n.getRevoked())
                    .name("takeovers").value(n.getTakeovers())
                    .name("lastTakeoverAddress").value(n.getLastTakeoverAddress().isEmpty() ? null : n.getLastTakeoverAddress())
                    .name("confinement").value(n.getConfinement().isEmpty() ? null : n.getConfinement())
                    .endObject();
        }
        if (!nodes.isEmpty()) {
            w.newline();
        }
        return w.endArray().toJson() + "\n";
    }

    /** Keeps columns aligned and makes every cell one printable line. */
    private static String dash(String s) {
        return Table.word(s);
    }
}
