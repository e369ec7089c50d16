package dev.meshhub.cli;

/**
 * Where Ctrl-C comes from. {@code main} uses a JVM shutdown hook (SIGINT, SIGTERM); tests trigger
 * it themselves; {@link #NONE} never fires.
 */
interface Interrupts {

    /** Never interrupts. */
    Interrupts NONE = action -> () -> { };

    /**
     * Runs {@code action} on another thread when the user interrupts meshctl, as long as the
     * returned registration is open. The action may block briefly (to let a cancel reach the hub):
     * the process ends when it returns.
     */
    Registration register(Runnable action);

    /** Closing unregisters; never throws. */
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /** The real thing: a shutdown hook, so the JVM exits (130 on SIGINT) once the action returns. */
    static Interrupts shutdownHook() {
        return action -> {
            Thread hook = new Thread(action, "meshctl-interrupt");
            Runtime.getRuntime().addShutdownHook(hook);
            return () -> {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running (or has run): nothing to undo
                }
            };
        };
    }
}
