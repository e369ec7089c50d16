package dev.meshhub.runtime.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Makes a directory read-only for a test, and writable again on close. Permission bits do not stop
 * root (CI runs as root here), so then the directory is made immutable with {@code chattr +i}. Either
 * way the result is checked by trying to create a file.
 */
final class ReadOnlyDirectory implements AutoCloseable {

    private final Path directory;
    private boolean immutable;

    private ReadOnlyDirectory(Path directory) {
        this.directory = directory;
    }

    static ReadOnlyDirectory make(Path directory) throws Exception {
        ReadOnlyDirectory readOnly = new ReadOnlyDirectory(directory);
        directory.toFile().setWritable(false, false);
        if (canCreateIn(directory)) {
            readOnly.immutable = true;
            String result = chattr("+i", directory);
            if (canCreateIn(directory)) {
                readOnly.close();
                throw new AssertionError("cannot make " + directory + " read-only on this machine (chattr +i: " + result + ")");
            }
        }
        return readOnly;
    }

    @Override
    public void close() throws Exception {
        if (immutable) {
            chattr("-i", directory);
        }
        directory.toFile().setWritable(true, true);
    }

    private static boolean canCreateIn(Path directory) {
        try {
            Files.delete(Files.createTempFile(directory, "probe", ".tmp"));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String chattr(String flag, Path directory) throws Exception {
        Process process = new ProcessBuilder("chattr", flag, directory.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes()).strip();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return "timed out";
        }
        return "exit " + process.exitValue() + (output.isEmpty() ? "" : ": " + output);
    }
}
