package dev.meshhub.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.meshhub.proto.v1.PolicyRules;

/**
 * How a STRICT argv task is started: its program resolved in the trusted system directories only
 * (never through the agent's inherited {@code PATH}; the absolute path is what runs and what is
 * reported), an environment built from scratch ({@code PATH} = the trusted directories,
 * {@code HOME} = the workspace, the agent's locale and time zone, then the task's own allowlisted
 * variables), and, when the node has a {@link Confinement}, the whole thing inside bwrap. Without
 * one, arguments that resolve (after links) into the agent's private directory are refused.
 *
 * @param command     what to execute (bwrap and its arguments first when confined)
 * @param environment the process environment (empty under bwrap, which sets it inside)
 * @param program     the absolute path of the program that runs
 */
record StrictLaunch(List<String> command, Map<String, String> environment, Path program) {

    /** Where allowlisted names are looked up, in this order, unless the policy says otherwise. */
    static final List<String> DEFAULT_TRUSTED_DIRECTORIES = List.of("/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin",
            "/usr/sbin", "/sbin");
    /** Variables a STRICT task inherits from the agent (if set there). */
    private static final List<String> INHERITED = List.of("LANG", "LANGUAGE", "TZ");
    /** The rule of a program that is not in any trusted directory. */
    static final String RESOLUTION_RULE = "strict.resolution";
    /** The rule of an argument that names the agent's private state on an unconfined node. */
    static final String PRIVATE_RULE = "strict.private-path";

    /** Why a STRICT task cannot start: the message names the rule. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /** The first regular, executable file named {@code name} in {@code directories}, or null. */
    static Path resolve(String name, List<String> directories) {
        for (String directory : directories) {
            Path candidate = Path.of(directory).resolve(name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /**
     * Builds the launch of {@code argv} (already checked by {@link PolicyRules}).
     *
     * @param marker the process-tree marker variable and value, set last so a task cannot choose it
     * @throws Refused when the program is in no trusted directory, or (unconfined) an argument names the private state
     */
    static StrictLaunch of(String nodeLabel, List<String> argv, Map<String, String> taskEnvironment, List<String> trustedDirectories,
            Path workspace, Path directory, List<Path> privateDirectories, Confinement confinement, Map.Entry<String, String> marker)
            throws Refused, IOException {
        String prefix = "node " + nodeLabel + " runs under STRICT policy; ";
        List<String> trusted = trustedDirectories.isEmpty() ? DEFAULT_TRUSTED_DIRECTORIES : trustedDirectories;
        String name = argv.get(0);
        Path program;
        if (name.startsWith("/")) {
            // An absolute path the admin allowlisted as such: it runs as given, or fails to start saying why
            // (checked here, since inside bwrap the reason would only be bwrap's exit code).
            program = Path.of(name);
            if (!Files.exists(program)) {
                throw new IOException("No such file or directory");
            }
            if (!Files.isExecutable(program) || Files.isDirectory(program)) {
                throw new IOException("Permission denied");
            }
        } else {
            program = resolve(name, trusted);
        }
        if (program == null) {
            throw new Refused(prefix + "'" + name + "' is not an executable file in its trusted directories ("
                    + String.join(", ", trusted) + "); the agent's own PATH is never searched (rule " + RESOLUTION_RULE + ")");
        }
        if (!confinement.confined()) {
            refusePrivateArguments(prefix, argv, directory, privateDirectories);
        }
        Map<String, String> environment = new LinkedHashMap<>();
        environment.put("PATH", String.join(":", trusted));
        environment.put("HOME", workspace.toAbsolutePath().toString());
        for (Map.Entry<String, String> inherited : System.getenv().entrySet()) {
            if (INHERITED.contains(inherited.getKey()) || inherited.getKey().startsWith("LC_")) {
                environment.put(inherited.getKey(), inherited.getValue());
            }
        }
        environment.putAll(taskEnvironment);
        environment.put(marker.getKey(), marker.getValue());
        List<String> command = new ArrayList<>();
        if (confinement.confined()) {
            List<String> pairs = new ArrayList<>();
            environment.forEach((key, value) -> {
                pairs.add(key);
                pairs.add(value);
            });
            command.addAll(Confinement.arguments(confinement.bwrap(), workspace, directory, privateDirectories, pairs));
            command.add(program.toString());
            command.addAll(argv.subList(1, argv.size()));
            return new StrictLaunch(command, Map.of(marker.getKey(), marker.getValue()), program);
        }
        command.add(program.toString());
        command.addAll(argv.subList(1, argv.size()));
        return new StrictLaunch(command, environment, program);
    }

    /** Unconfined: no argument (nor the value of an {@code --option=value}) may lead into a private directory. */
    private static void refusePrivateArguments(String prefix, List<String> argv, Path directory, List<Path> privateDirectories)
            throws Refused, IOException {
        List<Path> lexical = new ArrayList<>();
        List<Path> secrets = new ArrayList<>();
        for (Path privateDirectory : privateDirectories) {
            lexical.add(privateDirectory.toAbsolutePath().normalize());
            secrets.add(RealPaths.realOrNearest(privateDirectory.toAbsolutePath().normalize()));
        }
        for (int i = 1; i < argv.size(); i++) {
            String arg = argv.get(i);
            List<String> candidates = new ArrayList<>(List.of(arg));
            int equals = arg.indexOf('=');
            if (arg.startsWith("-") && equals > 0) {
                candidates.add(arg.substring(equals + 1));
            }
            for (String candidate : candidates) {
                if (candidate.isEmpty()) {
                    continue;
                }
                Path path;
                try {
                    path = directory.resolve(candidate).normalize();
                } catch (InvalidPathException e) {
                    continue;
                }
                Path real = RealPaths.realOrNearest(path);
                if (secrets.stream().anyMatch(real::startsWith) || lexical.stream().anyMatch(path::startsWith)) {
                    throw new Refused(prefix + "argument " + i + " leads into the agent's private directory, and this node"
                            + " has no confinement to hide it (rule " + PRIVATE_RULE + ")");
                }
            }
        }
    }
}
