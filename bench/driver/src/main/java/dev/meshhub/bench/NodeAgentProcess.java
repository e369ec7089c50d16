package dev.meshhub.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real node agent: the hub's own {@code bin/meshnode}, a process of its own, enrolled as an admin enrolls one (an
 * invite from the admin API, the hub verified by its {@code data/pki/trust.pem}), with its workspace, state and class-data
 * cache in a directory of the run. The driver's JDK, no JVM options (as a user runs it); its output goes to
 * {@code node.log} there.
 */
final class NodeAgentProcess implements AutoCloseable {

    private final String name;
    private final Path directory;
    private final Process process;

    private NodeAgentProcess(String name, Path directory, Process process) {
        this.name = name;
        this.directory = directory;
        this.process = process;
    }

    /**
     * Starts {@code bin/meshnode} with a fresh invite and waits until the hub lists the node as connected; the run kills it
     * if it ends first.
     */
    static NodeAgentProcess enroll(BenchMain main, HubInstance hub, String name, Path directory, Duration timeout)
            throws IOException, InterruptedException {
        Files.createDirectories(directory.resolve("workspace"));
        List<String> command = List.of(hub.home().resolve("bin/meshnode").toString(), "--hub", "127.0.0.1:" + hub.nodePort(),
                "--workspace", directory.resolve("workspace").toString(), "--state", directory.resolve("state").toString(),
                "--ca-file", hub.home().resolve("data/pki/trust.pem").toString(), "--token", hub.admin().createInvite(),
                "--name", name);
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                .redirectOutput(directory.resolve("node.log").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().keySet().removeIf(k -> k.startsWith("MESHHUB_") || k.equals("JAVA_OPTS"));
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("XDG_CACHE_HOME", Files.createDirectories(directory.resolve("cache")).toString());
        NodeAgentProcess node = new NodeAgentProcess(name, directory, main.track(builder.start()));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!hub.admin().connectedNodes().contains(name)) {
            if (!node.process.isAlive()) {
                throw new IllegalStateException("meshnode " + name + " exited with " + node.process.exitValue() + ": " + node.logTail());
            }
            if (System.nanoTime() > deadline) {
                node.close();
                throw new IllegalStateException("meshnode " + name + " was not connected within " + timeout.toSeconds() + " s: "
                        + node.logTail());
            }
            Thread.sleep(100);
        }
        return node;
    }

    String name() {
        return name;
    }

    /** The agent JVM's process id (bin/meshnode execs the JVM). */
    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(directory.resolve("node.log"), StandardCharsets.UTF_8);
            return String.join(" / ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "see " + directory.resolve("node.log");
        }
    }

    /** SIGTERM, then a kill after 10 s. */
    @Override
    public void close() {
        BenchMain.terminate(process, 10);
    }
}
