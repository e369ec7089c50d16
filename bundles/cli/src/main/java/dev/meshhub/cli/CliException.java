package dev.meshhub.cli;

/**
 * A failure meant for the user: one line (printed after {@code meshctl: }) and an exit code.
 */
final class CliException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The hub answered with an error, or could not be reached. */
    static final int FAILED = 1;
    /** Wrong usage or local setup (token file, address). */
    static final int USAGE = 2;

    private final int exitCode;

    CliException(int exitCode, String message) {
        this(exitCode, message, null);
    }

    CliException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
