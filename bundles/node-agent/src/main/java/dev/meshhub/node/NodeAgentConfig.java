package dev.meshhub.node;

import dev.meshhub.proto.v1.HubAddress;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What a {@link NodeAgent} needs to run. Built with {@link #builder(HubAddress, Path)}.
 *
 * <p>{@link #toString()} never shows the invite token.
 */
public final class NodeAgentConfig {

    private final HubAddress hub;
    private final Path workspace;
    private final String inviteToken;
    private final String nodeName;
    private final String agentVersion;
    private final Supplier<Backoff> backoff;

    private NodeAgentConfig(Builder b) {
        this.hub = b.hub;
        this.workspace = b.workspace;
        this.inviteToken = b.inviteToken;
        this.nodeName = b.nodeName;
        this.agentVersion = b.agentVersion;
        this.backoff = b.backoff;
    }

    public static Builder builder(HubAddress hub, Path workspace) {
        return new Builder(hub, workspace);
    }

    public HubAddress hub() {
        return hub;
    }

    public Path workspace() {
        return workspace;
    }

    /** The invite token, or null. */
    public String inviteToken() {
        return inviteToken;
    }

    /** The name to ask for at enrollment, or null for the hub's default (the hostname). */
    public String nodeName() {
        return nodeName;
    }

    public String agentVersion() {
        return agentVersion;
    }

    Backoff newBackoff() {
        return backoff.get();
    }

    @Override
    public String toString() {
        return "NodeAgentConfig[hub=" + hub + ", workspace=" + workspace + ", token="
                + (inviteToken == null ? "none" : "given") + ", name=" + nodeName + "]";
    }

    /** Builder of {@link NodeAgentConfig}. */
    public static final class Builder {
        private final HubAddress hub;
        private final Path workspace;
        private String inviteToken;
        private String nodeName;
        private String agentVersion = "unknown";
        private Supplier<Backoff> backoff = Backoff::withDefaults;

        private Builder(HubAddress hub, Path workspace) {
            this.hub = Objects.requireNonNull(hub, "hub");
            this.workspace = Objects.requireNonNull(workspace, "workspace");
        }

        public Builder inviteToken(String token) {
            this.inviteToken = token == null || token.isBlank() ? null : token.strip();
            return this;
        }

        public Builder nodeName(String name) {
            this.nodeName = name == null || name.isBlank() ? null : name.strip();
            return this;
        }

        public Builder agentVersion(String version) {
            this.agentVersion = Objects.requireNonNull(version, "version");
            return this;
        }

        /** Reconnect backoff (tests use short windows); default base 500 ms, cap 30 s. */
        public Builder backoff(Supplier<Backoff> backoff) {
            this.backoff = Objects.requireNonNull(backoff, "backoff");
            return this;
        }

        public NodeAgentConfig build() {
            return new NodeAgentConfig(this);
        }
    }
}
