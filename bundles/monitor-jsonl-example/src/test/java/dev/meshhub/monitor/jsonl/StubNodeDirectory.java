package dev.meshhub.monitor.jsonl;

import java.util.List;
import java.util.Optional;

import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeSession;

/** A node directory with a fixed list of sessions. */
final class StubNodeDirectory implements NodeDirectory {

    private final List<NodeSession> sessions;

    StubNodeDirectory(List<NodeSession> sessions) {
        this.sessions = List.copyOf(sessions);
    }

    @Override
    public List<NodeSession> connected() {
        return sessions;
    }

    @Override
    public Optional<NodeSession> session(String nodeId) {
        return sessions.stream().filter(s -> s.nodeId().equals(nodeId)).findFirst();
    }

    @Override
    public boolean disconnect(String nodeId, DisconnectCause cause, String detail) {
        throw new UnsupportedOperationException("not used by the monitor");
    }

    @Override
    public dev.meshhub.api.node.NodeLinkStats linkStats() {
        return new dev.meshhub.api.node.NodeLinkStats(0, 0, 0);
    }
}
