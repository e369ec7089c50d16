package dev.meshhub.node;

/**
 * How and why the node agent ended: the process exit code and a one-line message for stderr.
 */
public final class AgentExit {

    /** Stopped on request (signal, {@link NodeAgent#close()}). */
    public static final int STOPPED = 0;
    /** Unexpected local failure (e.g. the credential could not be stored). */
    public static final int FAILED = 1;
    /** Wrong usage or enrollment refused: fix the command line or get a new invite token. */
    public static final int USAGE_OR_ENROLLMENT_REFUSED = 2;
    /** The hub rejected this node's credential (revoked or unknown). */
    public static final int CREDENTIAL_REJECTED = 3;
    /** The hub replaced this session: another process runs with the same credential. */
    public static final int REPLACED = 4;
    /**
     * The hub failed verification (its CA is not the pinned or trusted one): nothing was sent to it,
     * no token, no credential. Check the address and the pin; retrying cannot help.
     */
    public static final int HUB_NOT_TRUSTED = 5;

    private final int code;
    private final String message;

    public AgentExit(int code, String message) {
        this.code = code;
        this.message = message;
    }

    static AgentExit stopped() {
        return new AgentExit(STOPPED, "stopped");
    }

    public int code() {
        return code;
    }

    /** One line, never a secret. */
    public String message() {
        return message;
    }

    @Override
    public String toString() {
        return "exit " + code + ": " + message;
    }
}
