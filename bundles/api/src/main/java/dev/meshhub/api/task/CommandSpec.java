package dev.meshhub.api.task;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A command to run on a node: either an argv executed directly (no shell), or a shell command
 * (PERMISSIVE nodes only).
 *
 * @param argv             the program and its arguments; empty when {@code shellCommand} is set
 * @param shellCommand     a command line for {@code /bin/sh -c}; {@code null} when {@code argv} is set
 * @param workingDirectory relative to the node's workspace; "" for the workspace itself
 * @param environment      extra environment variables
 * @param timeout          the node ends the whole process tree after this long; {@code null} for the hub's default
 * @param secretEnvironment environment variables whose values the hub never stores (the journal keeps
 *                         their names with empty values); they reach the node only
 */
public record CommandSpec(List<String> argv, String shellCommand, String workingDirectory, Map<String, String> environment,
        Duration timeout, Map<String, String> secretEnvironment) {

    /** A command without secret variables (the constructor of version 1.0). */
    public CommandSpec(List<String> argv, String shellCommand, String workingDirectory, Map<String, String> environment,
            Duration timeout) {
        this(argv, shellCommand, workingDirectory, environment, timeout, Map.of());
    }

    public CommandSpec {
        argv = List.copyOf(argv == null ? List.of() : argv);
        environment = Map.copyOf(environment == null ? Map.of() : environment);
        secretEnvironment = Map.copyOf(secretEnvironment == null ? Map.of() : secretEnvironment);
        workingDirectory = workingDirectory == null ? "" : workingDirectory;
        if (argv.isEmpty() == (shellCommand == null)) {
            throw new IllegalArgumentException("give either argv or a shell command, not both or neither");
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
    }

    /** A program run directly, no shell. */
    public static CommandSpec argv(String... argv) {
        return new CommandSpec(List.of(argv), null, "", Map.of(), null);
    }

    /** A shell command line (PERMISSIVE nodes only). */
    public static CommandSpec shell(String commandLine) {
        return new CommandSpec(List.of(), Objects.requireNonNull(commandLine, "commandLine"), "", Map.of(), null);
    }

    public CommandSpec withTimeout(Duration newTimeout) {
        return new CommandSpec(argv, shellCommand, workingDirectory, environment, newTimeout, secretEnvironment);
    }

    public CommandSpec withWorkingDirectory(String directory) {
        return new CommandSpec(argv, shellCommand, directory, environment, timeout, secretEnvironment);
    }

    public CommandSpec withEnvironment(Map<String, String> variables) {
        return new CommandSpec(argv, shellCommand, workingDirectory, variables, timeout, secretEnvironment);
    }

    /** The same command with variables whose values are never stored. */
    public CommandSpec withSecretEnvironment(Map<String, String> variables) {
        return new CommandSpec(argv, shellCommand, workingDirectory, environment, timeout, variables);
    }

    /** Whether this runs through a shell. */
    public boolean isShell() {
        return shellCommand != null;
    }

    /** A one-line human summary: the argv joined by spaces, or the shell command. */
    public String summary() {
        return isShell() ? "sh -c " + shellCommand : String.join(" ", argv);
    }

    /** Never prints secret values. */
    @Override
    public String toString() {
        return "CommandSpec[argv=" + argv + ", shellCommand=" + shellCommand + ", workingDirectory=" + workingDirectory
                + ", environment=" + environment + ", timeout=" + timeout + ", secretEnvironment=" + secretEnvironment.keySet() + "]";
    }
}
