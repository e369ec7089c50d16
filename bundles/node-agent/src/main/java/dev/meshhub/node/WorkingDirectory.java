package dev.meshhub.node;

import dev.meshhub.proto.v1.PolicyRules;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
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
 * link swapped afterwards cannot move it. Files to upload ({@link #resolveFile}) and destinations of
 * files the hub pushes ({@link #resolveDestination}) are confined by the same rules.
 */
final class WorkingDirectory {

    /** Longest name of one path segment, in bytes (the usual file system limit). */
    static final int MAX_NAME_BYTES = 255;
    /** Longest destination path, in bytes. */
    static final int MAX_PATH_BYTES = 4096;

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
        Path real = existingInside(lexical(base, requested, prefix), base, prefix, "is the node agent's private directory ");
        if (!Files.isDirectory(real)) {
            throw refused(prefix + "is not a directory");
        }
        return real;
    }

    /** The request as a path under the workspace, lexically: relative, and still inside once normalised. */
    private static Path lexical(Path base, String requested, String prefix) throws Refused {
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
        return lexical;
    }

    /** The real path of an existing entry: inside the workspace (links resolved), outside the private directory. */
    private static Path existingInside(Path lexical, Path base, String prefix, String privateWording) throws Refused {
        if (lexical.startsWith(base.resolve(CredentialStore.DIRECTORY))) {
            throw refused(prefix + privateWording + CredentialStore.DIRECTORY); // a reserved name, whether or not it exists
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
            throw refused(prefix + privateWording + CredentialStore.DIRECTORY);
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
        Path lexical = lexical(base, requested, prefix);
        if (requested.isEmpty() || lexical.equals(base)) {
            throw refused(prefix + "is not a relative path inside the node's workspace");
        }
        Path real = existingInside(lexical, base, prefix, "is in the node agent's private directory ");
        if (!Files.isRegularFile(real)) {
            throw refused(prefix + "is not a regular file");
        }
        return real;
    }

    /**
     * Resolves where a file the hub pushes may be written, creating its missing parent directories.
     *
     * <p>The path must be relative and stay inside the workspace once normalised; the deepest parent
     * that exists, with its links resolved, must be inside the workspace and outside the agent's
     * private directory; the missing parents are then created one by one under that real path, each
     * checked again (a link swapped in meanwhile cannot lead out). The destination itself may be
     * missing, or a regular file (replaced), but neither a symbolic link nor a directory. Nothing is
     * created for a refused path.
     *
     * @return the destination: its parent is a real path inside the workspace
     * @throws Refused     the destination is not allowed, saying why
     * @throws IOException a parent directory cannot be created, or the workspace cannot be resolved
     */
    static Path resolveDestination(Path workspace, String requested, String nodeLabel) throws Refused, IOException {
        Path base = workspace.toRealPath();
        Path privateDirectory = base.resolve(CredentialStore.DIRECTORY);
        String prefix = "node " + nodeLabel + ": destination '" + TaskSupervisor.shorten(requested, 60) + "' ";
        Path lexical = lexical(base, requested, prefix);
        if (requested.isEmpty() || lexical.equals(base)) {
            throw refused(prefix + "is not a relative path inside the node's workspace");
        }
        Path relative = base.relativize(lexical);
        if (requested.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
            throw refused(prefix + "is longer than " + MAX_PATH_BYTES + " bytes");
        }
        for (Path name : relative) {
            if (name.toString().getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                throw refused(prefix + "has a name longer than " + MAX_NAME_BYTES + " bytes");
            }
        }
        if (lexical.startsWith(privateDirectory)) {
            throw refused(prefix + "is in the node agent's private directory " + CredentialStore.DIRECTORY);
        }
        Path parent = lexical.getParent();
        Path existing = parent;
        while (!existing.equals(base) && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        Path directory = confinedDirectory(existing, base, privateDirectory, prefix);
        if (!existing.equals(parent)) {
            for (Path name : existing.relativize(parent)) {
                Path next = directory.resolve(name);
                try {
                    Files.createDirectory(next);
                } catch (FileAlreadyExistsException raced) {
                    // created (or replaced by a link) meanwhile: checked like any existing parent below
                }
                directory = confinedDirectory(next, base, privateDirectory, prefix);
            }
        }
        Path destination = directory.resolve(lexical.getFileName());
        if (destination.startsWith(privateDirectory)) {
            throw refused(prefix + "is in the node agent's private directory " + CredentialStore.DIRECTORY);
        }
        if (Files.isSymbolicLink(destination)) {
            throw refused(prefix + "is a symbolic link; remove it or choose another destination");
        }
        if (Files.isDirectory(destination, LinkOption.NOFOLLOW_LINKS)) {
            throw refused(prefix + "is a directory");
        }
        if (Files.exists(destination, LinkOption.NOFOLLOW_LINKS)
                && !Files.isRegularFile(destination, LinkOption.NOFOLLOW_LINKS)) {
            throw refused(prefix + "exists and is not a regular file");
        }
        return destination;
    }

    /** The real path of {@code directory}: inside the workspace, outside the private directory, a directory. */
    private static Path confinedDirectory(Path directory, Path base, Path privateDirectory, String prefix)
            throws Refused {
        Path real;
        try {
            real = directory.toRealPath();
        } catch (NoSuchFileException e) {
            throw refused(prefix + "has a parent that cannot be resolved (a dangling symbolic link?)");
        } catch (IOException e) {
            throw refused(prefix + "has a parent that cannot be resolved (" + e.getMessage() + ")");
        }
        if (!real.startsWith(base)) {
            throw refused(prefix + "leads outside the node's workspace through a symbolic link (to " + real + ")");
        }
        if (real.startsWith(privateDirectory)) {
            throw refused(prefix + "is in the node agent's private directory " + CredentialStore.DIRECTORY);
        }
        if (!Files.isDirectory(real)) {
            throw refused(prefix + "has a parent that is not a directory (" + base.relativize(real) + ")");
        }
        return real;
    }

    private static Refused refused(String message) {
        return new Refused(message + " (rule " + PolicyRules.WORKDIR + ")");
    }
}
