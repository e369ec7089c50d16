package dev.meshhub.node;

import dev.meshhub.proto.v1.PolicyRules;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Where a task may run: a directory inside the node's workspace, after every symbolic link is
 * resolved, and never the agent's own {@value CredentialStore#DIRECTORY} directory.
 *
 * <p>{@link PolicyRules} already refuses absolute paths and {@code ..} segments by their text;
 * this check works on the file system: the requested path is normalised and must stay under the
 * workspace, then its real path ({@link Path#toRealPath}, links followed) must stay under the
 * workspace's real path, exist and be a directory. The task is started in that real path, so a
 * link swapped afterwards cannot move it.
 */
final class WorkingDirectory {

    /** A working directory that may not be used; the message is the task's diagnostic. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message, null, false, false);
        }
    }

    private WorkingDirectory() {
    }

    /**
     * Resolves a task's working directory.
     *
     * @param workspace the node's workspace
     * @param requested relative to the workspace; "" means the workspace itself
     * @param nodeLabel how diagnostics name the node
     * @return the real path to start the task in
     * @throws Refused     the directory is not allowed (outside, missing, not a directory, private)
     * @throws IOException the workspace itself cannot be resolved
     */
    static Path resolve(Path workspace, String requested, String nodeLabel) throws Refused, IOException {
        Path base = workspace.toRealPath();
        if (requested.isEmpty()) {
            return base;
        }
        String prefix = "node " + nodeLabel + ": working directory '" + TaskSupervisor.shorten(requested, 60) + "' ";
        Path relative;
        try {
            relative = Path.of(requested);
        } catch (InvalidPathException e) {
            throw refused(prefix + "is not a valid path");
        }
        Path lexical = base.resolve(relative).normalize();
        if (relative.isAbsolute() || !lexical.startsWith(base)) {
            throw refused(prefix + "is not a relative path inside the node's workspace");
        }
        Path real;
        try {
            real = lexical.toRealPath();
        } catch (NoSuchFileException e) {
            throw refused(prefix + "does not exist in the node's workspace");
        } catch (IOException e) {
            throw refused(prefix + "cannot be resolved (" + e.getMessage() + ")");
        }
        if (!real.startsWith(base)) {
            throw refused(prefix + "leads outside the node's workspace through a symbolic link (to " + real + ")");
        }
        if (real.startsWith(base.resolve(CredentialStore.DIRECTORY))) {
            throw refused(prefix + "is the node agent's private directory " + CredentialStore.DIRECTORY);
        }
        if (!Files.isDirectory(real)) {
            throw refused(prefix + "is not a directory");
        }
        return real;
    }

    /**
     * Resolves a file to upload: a regular file inside the workspace (symbolic links resolved and
     * confined), never in the agent's private directory.
     *
     * @throws Refused     the file is not allowed or not there, saying which
     * @throws IOException the workspace itself cannot be resolved
     */
    static Path resolveFile(Path workspace, String requested, String nodeLabel) throws Refused, IOException {
        Path base = workspace.toRealPath();
        String prefix = "node " + nodeLabel + ": file '" + TaskSupervisor.shorten(requested, 60) + "' ";
        Path relative;
        try {
            relative = Path.of(requested);
        } catch (InvalidPathException e) {
            throw refused(prefix + "is not a valid path");
        }
        Path lexical = base.resolve(relative).normalize();
        if (requested.isEmpty() || relative.isAbsolute() || !lexical.startsWith(base) || lexical.equals(base)) {
            throw refused(prefix + "is not a relative path inside the node's workspace");
        }
        Path real;
        try {
            real = lexical.toRealPath();
        } catch (NoSuchFileException e) {
            throw refused(prefix + "does not exist in the node's workspace");
        } catch (IOException e) {
            throw refused(prefix + "cannot be resolved (" + e.getMessage() + ")");
        }
        if (!real.startsWith(base)) {
            throw refused(prefix + "leads outside the node's workspace through a symbolic link (to " + real + ")");
        }
        if (real.startsWith(base.resolve(CredentialStore.DIRECTORY))) {
            throw refused(prefix + "is in the node agent's private directory " + CredentialStore.DIRECTORY);
        }
        if (!Files.isRegularFile(real)) {
            throw refused(prefix + "is not a regular file");
        }
        return real;
    }

    private static Refused refused(String message) {
        return new Refused(message + " (rule " + PolicyRules.WORKDIR + ")");
    }
}
