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

    /** Columns ID NAME ADDRESS CONNECTED-SINCE LAST-HEARTBEAT, plus STATE with {@code --all}. */
    static String table(List<NodeStatus> nodes, boolean withState) {
        List<String[]> rows = new ArrayList<>();
        rows.add(withState
                ? new String[] {"ID", "NAME", "ADDRESS", "CONNECTED-SINCE", "LAST-HEARTBEAT", "STATE"}
                : new String[] {"ID", "NAME", "ADDRESS", "CONNECTED-SINCE", "LAST-HEARTBEAT"});
        for (NodeStatus n : nodes) {
            String[] row = {
                dash(n.getNodeId()), dash(n.getName()), dash(n.getAddress()),
                dash(iso(n.getConnectedSinceMs())), dash(iso(n.getLastHeartbeatMs())), state(n)};
            rows.add(withState ? row : java.util.Arrays.copyOf(row, 5));
        }
        return Table.render(rows);
    }

    /** A JSON array of {id, name, connected, address, connectedSince, lastHeartbeat, enrolledAt, revoked}. */
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
