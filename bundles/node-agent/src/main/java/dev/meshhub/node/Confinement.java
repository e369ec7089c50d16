package dev.meshhub.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * How STRICT tasks are confined on this machine: with bubblewrap ({@code bwrap}, Debian package
 * {@code bubblewrap}) in a mount namespace that shows system directories read-only, the workspace
 * read-write, a private {@code /tmp}, and not the agent's private state; or, where bwrap is missing
 * or cannot create namespaces here, not at all ("unconfined", said in the Hello and shown by
 * {@code meshctl nodes}). Found once at start by running bwrap for real.
 *
 * @param bwrap       the bwrap executable, or null when unconfined
 * @param description what the Hello says: {@code bwrap} or {@code unconfined: <why>}
 */
record Confinement(Path bwrap, String description) {

    private static final Logger LOG = Logger.getLogger(Confinement.class.getName());
    /** Where bwrap is looked for: root-owned system directories only, never the agent's PATH. */
    static final List<String> BWRAP_LOCATIONS = List.of("/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap");
    /** System directories a confined task sees read-only (those that exist; a symlink stays a symlink). */
    static final List<String> SYSTEM_DIRECTORIES = List.of("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc");

    static Confinement unconfined(String why) {
        return new Confinement(null, "unconfined: " + why);
    }

    boolean confined() {
        return bwrap != null;
    }

    /**
     * Finds bwrap and proves it works here by confining {@code true} in a scratch workspace.
     *
     * @param mode {@code auto} (bwrap if it works), {@code bwrap} (must work: the agent refuses to start
     *             otherwise, see NodeAgent) or {@code none}
     */
    static Confinement detect(String mode, List<String> trustedDirectories) {
        if ("none".equals(mode)) {
            LOG.warning("STRICT tasks run UNCONFINED (--confinement none): an allowlisted program can read anything this"
                    + " user can; arguments naming the agent's private state are still refused");
            return unconfined("disabled by --confinement none");
        }
        Path found = null;
        for (String location : BWRAP_LOCATIONS) {
            Path candidate = Path.of(location);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                found = candidate;
                break;
            }
        }
        String why;
        if (found == null) {
            why = "bwrap not found in " + String.join(", ", BWRAP_LOCATIONS) + " (install the bubblewrap package)";
        } else {
            why = probe(found, trustedDirectories);
            if (why == null) {
                LOG.info("STRICT tasks are confined with " + found + ": system directories read-only, the workspace"
                        + " read-write, no view of the agent's private state");
                return new Confinement(found, "bwrap");
            }
        }
        if ("bwrap".equals(mode)) {
            return unconfined(why);
        }
        LOG.warning("STRICT tasks run UNCONFINED: " + why + ". Arguments naming the agent's private state are refused,"
                + " but an allowlisted program can read anything this user can");
        return unconfined(why);
    }

    /** Null when a confined {@code true} ran; else why not. */
    private static String probe(Path bwrap, List<String> trustedDirectories) {
        Path scratch = null;
        try {
            scratch = Files.createTempDirectory("meshnode-confinement-probe");
            Path program = StrictLaunch.resolve("true", trustedDirectories);
            if (program == null) {
                return "no 'true' in " + trustedDirectories + " to try bwrap with";
            }
            List<String> command = new ArrayList<>(arguments(bwrap, scratch, scratch, List.of(), List.of()));
            command.add(program.toString());
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return bwrap + " did not finish within 10 s";
            }
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return process.exitValue() == 0 ? null : bwrap + " cannot confine here (exit " + process.exitValue() + ": "
                    + (output.length() > 200 ? output.substring(0, 200) : output) + ")";
        } catch (IOException e) {
            return "running " + bwrap + " failed: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while trying " + bwrap;
        } finally {
            if (scratch != null) {
                try {
                    Files.deleteIfExists(scratch);
                } catch (IOException ignored) {
                    // A leftover empty temp directory.
                }
            }
        }
    }

    /**
     * bwrap's arguments up to (not including) the program: new namespaces (the network stays shared),
     * system directories read-only, {@code /proc}, {@code /dev}, a private {@code /tmp}, the
     * workspace read-write with the agent's private directories covered by an empty tmpfs where a
     * tree shown holds them, the working directory, and exactly {@code environment} (a list of name, value pairs).
     */
    static List<String> arguments(Path bwrap, Path workspace, Path directory, List<Path> privateDirectories, List<String> environment)
            throws IOException {
        List<String> args = new ArrayList<>(List.of(bwrap.toString(), "--die-with-parent", "--unshare-all", "--share-net",
                "--new-session", "--clearenv"));
        for (String system : SYSTEM_DIRECTORIES) {
            Path path = Path.of(system);
            if (Files.isSymbolicLink(path)) {
                args.addAll(List.of("--symlink", Files.readSymbolicLink(path).toString(), system));
            } else if (Files.isDirectory(path)) {
                args.addAll(List.of("--ro-bind", system, system));
            }
        }
        args.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"));
        String root = workspace.toAbsolutePath().toString();
        args.addAll(List.of("--bind", root, root));
        for (Path privateDirectory : privateDirectories) {
            // Normally outside every tree shown (so simply absent); covered where one shows it.
            Path shown = privateDirectory.toAbsolutePath().normalize();
            boolean visible = shown.startsWith(workspace.toAbsolutePath().normalize())
                    || SYSTEM_DIRECTORIES.stream().anyMatch(system -> shown.startsWith(system));
            if (visible && Files.isDirectory(shown)) {
                args.addAll(List.of("--tmpfs", shown.toString(), "--remount-ro", shown.toString()));
            }
        }
        args.addAll(List.of("--chdir", directory.toAbsolutePath().toString()));
        for (int i = 0; i + 1 < environment.size(); i += 2) {
            args.addAll(List.of("--setenv", environment.get(i), environment.get(i + 1)));
        }
        args.add("--");
        return args;
    }
}
