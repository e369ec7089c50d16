package dev.meshhub.api.policy;

import java.util.List;

/**
 * The sandbox policy one node runs under.
 *
 * @param nodeId             the node
 * @param mode               STRICT or PERMISSIVE
 * @param allowedExecutables STRICT: executable names (matched against argv[0]'s file name when argv[0]
 *                           has no '/') or absolute paths (matched exactly)
 * @param revision           increases with every change, so nodes ignore stale updates
 * @param source             which policy decided it, for messages and logs
 * @param allowedEnvironment STRICT: environment variable names a task may set besides the built-in locale
 *                           and terminal ones; an entry ending in '*' is a prefix
 */
public record NodePolicy(String nodeId, SandboxMode mode, List<String> allowedExecutables, long revision, String source,
        List<String> allowedEnvironment) {
    public NodePolicy {
        allowedExecutables = List.copyOf(allowedExecutables == null ? List.of() : allowedExecutables);
        allowedEnvironment = List.copyOf(allowedEnvironment == null ? List.of() : allowedEnvironment);
    }

    /** A policy with only the built-in environment names (the constructor of version 1.0). */
    public NodePolicy(String nodeId, SandboxMode mode, List<String> allowedExecutables, long revision, String source) {
        this(nodeId, mode, allowedExecutables, revision, source, List.of());
    }
}
