package dev.meshhub.runtime;

/** The hub cannot start; the message is the one line shown to the user after "meshhub: ". */
public final class LaunchException extends Exception {

    private static final long serialVersionUID = 1L;

    public LaunchException(String message) {
        super(message);
    }

    public LaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}
