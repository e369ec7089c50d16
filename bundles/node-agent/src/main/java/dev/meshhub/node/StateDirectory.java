package dev.meshhub.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Where the agent keeps its private state (key, certificate, the hub's CA, download markers):
 * outside the workspace by default, so no task can reach it whatever its arguments or links.
 *
 * <p>The default is {@code $XDG_STATE_HOME/meshnode/<workspace name>-<10 hex of the SHA-256 of the
 * workspace's real path>} ({@code XDG_STATE_HOME} defaulting to {@code $HOME/.local/state}), or
 * {@code /var/lib/meshnode/...} for root: one directory per workspace, so two agents with two
 * workspaces never share an identity. {@code meshnode --state DIR} chooses another; it must lie
 * outside the workspace, except the old place {@code <workspace>/.meshnode}.
 *
 * <p>An agent upgraded from the time when the state lived in {@code <workspace>/.meshnode} moves it
 * out at its first start ({@link #adoptLegacy}), keeping its identity.
 */
public final class StateDirectory {

    private static final Logger LOG = Logger.getLogger(StateDirectory.class.getName());
    /** Files whose presence means a directory holds a node's identity. */
    private static final List<String> IDENTITY_FILES = List.of(CredentialStore.CERTIFICATE_FILE,
            CredentialStore.CREDENTIAL_FILE, CredentialStore.PROPERTIES_FILE, CredentialStore.HUB_CA_FILE);

    private StateDirectory() {
    }

    /** The old place of the state, inside the workspace (a name every path rule still refuses). */
    public static Path legacy(Path workspace) {
        return workspace.toAbsolutePath().normalize().resolve(CredentialStore.DIRECTORY);
    }

    /** The default state directory of {@code workspace} for this process's user and environment. */
    public static Path defaultFor(Path workspace) {
        return defaultFor(workspace, System.getenv(), System.getProperty("user.home"),
                "root".equals(System.getProperty("user.name")));
    }

    /**
     * The default state directory of {@code workspace}.
     *
     * @param environment the process environment ({@code XDG_STATE_HOME}, {@code HOME})
     * @param userHome    the JVM's {@code user.home}, used when {@code HOME} is not set
     * @param root        the agent runs as root: {@code /var/lib/meshnode}
     */
    static Path defaultFor(Path workspace, Map<String, String> environment, String userHome, boolean root) {
        Path base;
        String xdg = environment.get("XDG_STATE_HOME");
        if (xdg != null && xdg.startsWith("/")) {
            base = Path.of(xdg).resolve("meshnode");
        } else if (root) {
            base = Path.of("/var/lib/meshnode");
        } else {
            String home = environment.getOrDefault("HOME", "");
            base = Path.of(home.startsWith("/") ? home : userHome).resolve(".local/state/meshnode");
        }
        Path real = RealPaths.realOrNearest(workspace.toAbsolutePath().normalize());
        String name = real.getFileName() == null ? "root" : real.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
        if (name.length() > 40) {
            name = name.substring(0, 40);
        }
        return base.resolve(name + "-" + HexFormat.of().formatHex(sha256(real.toString())).substring(0, 10));
    }

    /**
     * Checks that {@code state} is a place tasks cannot reach through the workspace.
     *
     * @return null when it is, else why not (a sentence for the user)
     */
    static String problem(Path workspace, Path state) {
        Path ws = RealPaths.realOrNearest(workspace.toAbsolutePath().normalize());
        Path st = RealPaths.realOrNearest(state.toAbsolutePath().normalize());
        if (st.equals(RealPaths.realOrNearest(legacy(workspace)))) {
            return null;
        }
        if (st.startsWith(ws)) {
            return "the state directory " + state + " is inside the workspace " + workspace
                    + ", where tasks could reach it; choose a directory outside it (the default is "
                    + defaultFor(workspace) + ")";
        }
        if (ws.startsWith(st)) {
            return "the workspace " + workspace + " is inside the state directory " + state
                    + "; choose a state directory apart from the workspace";
        }
        return null;
    }

    /**
     * Moves the state an older agent kept in {@code <workspace>/.meshnode} to {@code state}, when
     * {@code state} holds no identity yet. Leaves both alone (with a warning) when both hold one.
     *
     * @return true when something was moved
     * @throws IOException naming both directories when the move fails half-way
     */
    static boolean adoptLegacy(Path workspace, Path state) throws IOException {
        Path old = legacy(workspace);
        Path target = state.toAbsolutePath().normalize();
        if (old.equals(target) || !Files.isDirectory(old, LinkOption.NOFOLLOW_LINKS) || !holdsIdentity(old)) {
            return false;
        }
        if (holdsIdentity(target)) {
            LOG.warning("both " + old + " (left by an older meshnode) and " + target + " hold a node identity; using "
                    + target + ". Delete " + old + " once you know it is not needed: tasks must not find it there.");
            return false;
        }
        Path parent = target.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            Files.createDirectories(parent, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.delete(target); // empty: made by an earlier, failed start
            } catch (DirectoryNotEmptyException e) {
                throw new IOException("cannot move the node's state from " + old + " to " + target + ": " + target
                        + " is not empty but holds no identity; empty it or start with --state " + old, e);
            }
        }
        try {
            Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException notSameFileSystem) {
            copyTree(old, target);
            deleteTree(old);
        }
        LOG.info("moved the node's private state out of the workspace, where tasks could reach it: " + old + " -> " + target);
        return true;
    }

    private static boolean holdsIdentity(Path directory) {
        return IDENTITY_FILES.stream().anyMatch(name -> Files.exists(directory.resolve(name), LinkOption.NOFOLLOW_LINKS));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try {
            Files.createDirectory(to, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // made by a copy that failed half-way: files below are copied again
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(from)) {
            for (Path entry : entries) {
                Path copy = to.resolve(entry.getFileName().toString());
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    copyTree(entry, copy);
                } else if (Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
                    Files.copy(entry, copy, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static void deleteTree(Path directory) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    deleteTree(entry);
                } else {
                    Files.delete(entry);
                }
            }
        }
        Files.delete(directory);
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
