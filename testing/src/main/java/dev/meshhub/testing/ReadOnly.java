package dev.meshhub.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Makes a path read-only for a test, and writable again. Permission bits do not stop root (CI runs
 * as root), so then the path is made immutable with {@code chattr +i}; the result is checked.
 */
public final class ReadOnly {

    private ReadOnly() {
    }

    public static void make(Path path) throws Exception {
        path.toFile().setWritable(false, false);
        if (Files.isWritable(path)) {
            chattr("+i", path);
        }
        if (Files.isWritable(path)) {
            throw new AssertionError("cannot make " + path + " read-only on this machine");
        }
    }

    public static void undo(Path path) throws Exception {
        chattr("-i", path);
        path.toFile().setWritable(true, true);
    }

    private static void chattr(String flag, Path path) throws Exception {
        Process process = new ProcessBuilder("chattr", flag, path.toString()).redirectErrorStream(true).start();
        process.getInputStream().readAllBytes();
        process.waitFor();
    }
}
