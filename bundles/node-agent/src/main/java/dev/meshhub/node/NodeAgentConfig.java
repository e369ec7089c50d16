package dev.meshhub.node;

import dev.meshhub.proto.v1.HubAddress;
import java.nio.file.Path;
import java.time.Duration;
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
    private final Path stateDirectory;
    private final String inviteToken;
    private final String nodeName;
    private final String agentVersion;
    private final Supplier<Backoff> backoff;
    private final int maxTasks;
    private final long outputBufferBytes;
    private final Duration defaultTaskTimeout;
    private final java.util.List<String> syncFolders;
    private final Duration syncInterval;
    private final HubVerification verification;
    private final String confinement;

    private NodeAgentConfig(Builder b) {
        this.verification = b.verification;
        this.confinement = b.confinement;
        this.hub = b.hub;
        this.workspace = b.workspace;
        this.stateDirectory = b.stateDirectory != null ? b.stateDirectory.toAbsolutePath().normalize()
                : StateDirectory.defaultFor(b.workspace);
        this.inviteToken = b.inviteToken;
        this.nodeName = b.nodeName;
        this.agentVersion = b.agentVersion;
        this.backoff = b.backoff;
        this.maxTasks = b.maxTasks;
        this.outputBufferBytes = b.outputBufferBytes;
        this.defaultTaskTimeout = b.defaultTaskTimeout;
        this.syncFolders = java.util.List.copyOf(b.syncFolders);
        this.syncInterval = b.syncInterval;
    }

    /** How STRICT tasks are confined: {@code auto} (bwrap where it works), {@code bwrap} (required) or {@code none}. */
    public String confinement() {
        return confinement;
    }

    /** How the hub is verified before anything is sent to it. */
    public HubVerification verification() {
        return verification;
    }

    /** Workspace folders mirrored to the hub (relative to the workspace); empty for none. */
    public java.util.List<String> syncFolders() {
        return syncFolders;
    }

    /** Time between two passes over {@link #syncFolders()}. */
    public Duration syncInterval() {
        return syncInterval;
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

    /** Where the agent keeps its key, certificate, the hub's CA and download markers: outside the workspace. */
    public Path stateDirectory() {
        return stateDirectory;
    }

    /** The directories no task may reach: the state directory, and the old place inside the workspace. */
    public java.util.List<Path> privateDirectories() {
        Path legacy = StateDirectory.legacy(workspace);
        return legacy.equals(stateDirectory) ? java.util.List.of(stateDirectory) : java.util.List.of(stateDirectory, legacy);
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

    /** How many tasks may run at once; one more is answered "node is busy". */
    public int maxTasks() {
        return maxTasks;
    }

    /** Bound of the outbound queue to the hub, in bytes of serialized messages. */
    public long outputBufferBytes() {
        return outputBufferBytes;
    }

    /** Timeout of a task whose assignment sets none. */
    public Duration defaultTaskTimeout() {
        return defaultTaskTimeout;
    }

    @Override
    public String toString() {
        return "NodeAgentConfig[hub=" + hub + ", workspace=" + workspace + ", state=" + stateDirectory + ", token="
                + (inviteToken == null ? "none" : "given") + ", name=" + nodeName + ", maxTasks=" + maxTasks + "]";
    }

    /** Builder of {@link NodeAgentConfig}. */
    public static final class Builder {
        /** Default of {@link #maxTasks(int)}. */
        public static final int DEFAULT_MAX_TASKS = 16;
        /** Largest value of {@link #maxTasks(int)}. */
        public static final int MAX_MAX_TASKS = 1024;
        /** Default of {@link #outputBufferBytes(long)}: 4 MiB. */
        public static final long DEFAULT_OUTPUT_BUFFER_BYTES = 4L << 20;
        /** Smallest value of {@link #outputBufferBytes(long)}: a few output chunks. */
        public static final long MIN_OUTPUT_BUFFER_BYTES = 64L << 10;
        /** Default of {@link #defaultTaskTimeout(Duration)}: 10 minutes. */
        public static final Duration DEFAULT_TASK_TIMEOUT = Duration.ofMinutes(10);

        private final HubAddress hub;
        private final Path workspace;
        private Path stateDirectory;
        private String inviteToken;
        private String nodeName;
        private String agentVersion = "unknown";
        private Supplier<Backoff> backoff = Backoff::withDefaults;
        private int maxTasks = DEFAULT_MAX_TASKS;
        private long outputBufferBytes = DEFAULT_OUTPUT_BUFFER_BYTES;
        private Duration defaultTaskTimeout = DEFAULT_TASK_TIMEOUT;
        private java.util.List<String> syncFolders = java.util.List.of();
        private Duration syncInterval = DEFAULT_SYNC_INTERVAL;
        private HubVerification verification = HubVerification.stored();
        private String confinement = "auto";

        /** How STRICT tasks are confined: auto (default), bwrap or none. */
        public Builder confinement(String mode) {
            if (!java.util.List.of("auto", "bwrap", "none").contains(mode)) {
                throw new IllegalArgumentException("--confinement takes auto, bwrap or none; got '" + mode + "'");
            }
            this.confinement = mode;
            return this;
        }

        /** Default of {@link #syncInterval(Duration)}: one minute. */
        public static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofMinutes(1);

        /** Workspace folders to mirror to the hub: every file below each, uploaded when new or changed. */
        public Builder syncFolders(java.util.List<String> folders) {
            this.syncFolders = java.util.List.copyOf(folders);
            return this;
        }

        /** Time between two passes over the sync folders (positive). */
        public Builder syncInterval(Duration interval) {
            if (interval == null || interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("the sync interval must be positive");
            }
            this.syncInterval = interval;
            return this;
        }

        private Builder(HubAddress hub, Path workspace) {
            this.hub = Objects.requireNonNull(hub, "hub");
            this.workspace = Objects.requireNonNull(workspace, "workspace");
        }

        /**
         * Where the agent keeps its private state; default {@link StateDirectory#defaultFor(Path)}.
         *
         * @throws IllegalArgumentException when it lies inside the workspace (other than {@code .meshnode})
         */
        public Builder stateDirectory(Path directory) {
            String problem = StateDirectory.problem(workspace, Objects.requireNonNull(directory, "directory"));
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
            this.stateDirectory = directory;
            return this;
        }

        /** How to verify the hub; default: the CA kept from an earlier join. */
        public Builder verification(HubVerification verification) {
            this.verification = Objects.requireNonNull(verification, "verification");
            return this;
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

        /** Tasks that may run at once, 1 to {@value #MAX_MAX_TASKS}; default {@value #DEFAULT_MAX_TASKS}. */
        public Builder maxTasks(int maxTasks) {
            if (maxTasks < 1 || maxTasks > MAX_MAX_TASKS) {
                throw new IllegalArgumentException("max tasks must be between 1 and " + MAX_MAX_TASKS + ", got "
                        + maxTasks);
            }
            this.maxTasks = maxTasks;
            return this;
        }

        /**
         * Bound of the queue of messages waiting for the hub to read them (task output above all);
         * when it is full, tasks wait on their output pipes. At least 64 KiB; default 4 MiB.
         */
        public Builder outputBufferBytes(long bytes) {
            if (bytes < MIN_OUTPUT_BUFFER_BYTES) {
                throw new IllegalArgumentException("the output buffer must hold at least " + MIN_OUTPUT_BUFFER_BYTES
                        + " bytes, got " + bytes);
            }
            this.outputBufferBytes = bytes;
            return this;
        }

        /** Timeout of a task whose assignment sets none; default 10 minutes. */
        public Builder defaultTaskTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("the default task timeout must be positive, got " + timeout);
            }
            this.defaultTaskTimeout = timeout;
            return this;
        }

        public NodeAgentConfig build() {
            return new NodeAgentConfig(this);
        }
    }
}
