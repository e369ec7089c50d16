package dev.meshhub.journal.impl;

import java.nio.file.Path;
import java.time.Clock;

/**
 * Started in its own JVM by {@link DatabaseInUseTest}: tries to open the journal in the directory
 * given as the only argument and reports the outcome on standard output.
 */
public final class SecondHubProcess {

    static final int OPENED = 0;
    static final int REFUSED = 3;

    private SecondHubProcess() {
    }

    public static void main(String[] args) {
        try (DerbyEnrollmentStore store = new DerbyEnrollmentStore(Path.of(args[0]), Clock.systemUTC(), 1, 1)) {
            System.out.println("OPENED " + store.databaseDirectory());
            System.out.flush();
        } catch (IllegalStateException e) {
            System.out.println("REFUSED: " + e.getMessage());
            System.out.flush();
            System.exit(REFUSED);
        }
        System.exit(OPENED);
    }
}
