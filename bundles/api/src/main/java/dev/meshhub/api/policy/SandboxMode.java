package dev.meshhub.api.policy;

/** How much a node may run. */
public enum SandboxMode {
    /** Executables on an allowlist, run directly (argv), no shell, no metacharacters. The default. */
    STRICT,
    /** Shell commands allowed. Only by an explicit, audited admin act. */
    PERMISSIVE
}
