package dev.meshhub.monitor.snapshot;

import java.util.List;
import java.util.Optional;

import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeSession;

/** A node directory holding a fixed list of sessions; tests replace the list between runs. */
public final class FakeNodeDirectory implements NodeDirectory {

    private volatile List<NodeSession> sessions;

    public FakeNodeDirectory(List<NodeSession> sessions) {
        this.sessions = List.copyOf(sessions);
    }

    public void set(List<NodeSession> next) {
        sessions = List.copyOf(next);
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
