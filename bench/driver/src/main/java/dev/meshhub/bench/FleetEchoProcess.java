package dev.meshhub.bench;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.Empty;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;

/**
 * The echo baseline ({@link FleetEchoServer}) as the driver runs it: its own JVM, the hubs' JVM
 * options, a loopback port kept across restarts (a fleet reconnects to the same address).
 */
final class FleetEchoProcess implements AutoCloseable {

    private final Path dir;
    private final String javaOpts;
    private final int port;
    private Process process;
    private ManagedChannel control;

    FleetEchoProcess(Path dir, String javaOpts) throws IOException {
        this.dir = dir;
        this.javaOpts = javaOpts;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            this.port = socket.getLocalPort();
        }
        Files.createDirectories(dir);
    }

    /** The server JVM's process id; -1 before a start. */
    long pid() {
        return process == null ? -1 : process.pid();
    }

    /** Launches the server; returns without waiting (see {@link #awaitReady(Duration)}). */
    void start() throws IOException {
        Files.deleteIfExists(dir.resolve("echo.ready"));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String option : javaOpts.trim().split("\\s+")) {
            if (!option.isEmpty()) {
                command.add(option);
            }
        }
        command.add("-Xlog:gc:file=" + dir.resolve("echo-gc.log"));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), FleetEchoServer.class.getName(), Integer.toString(port),
                dir.toString()));
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("echo.log").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    void awaitReady(Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.isRegularFile(dir.resolve("echo.ready"))) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the echo server exited with " + process.exitValue() + "; see " + dir.resolve("echo.log"));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the echo server did not start within " + timeout.toSeconds() + " s");
            }
            Thread.sleep(20);
        }
        if (control == null) {
            control = NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", port), TlsChannelCredentials.newBuilder()
                    .trustManager(certificate().toFile()).build()).build();
        }
        control.resetConnectBackoff();
    }

    /** CPU time the server's JVM has used, or -1. */
    long cpuNanos() {
        return process == null ? -1 : process.toHandle().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }

    Path certificate() {
        return dir.resolve("echo.pem");
    }

    int port() {
        return port;
    }

    /** Heap used right after a full GC in the server's JVM (median of 5 readings). */
    long heapAfterGc() {
        return ClientCalls.blockingUnaryCall(control, FleetEchoServer.HEAP, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
                Empty.getDefaultInstance()).getValue();
    }

    /** Streams the server holds open. */
    int streams() {
        try {
            return (int) ClientCalls.blockingUnaryCall(control, FleetEchoServer.STREAMS,
                    CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), Empty.getDefaultInstance()).getValue();
        } catch (RuntimeException e) {
            // Asked again at the next poll, not after the channel's own reconnect backoff (up to 2 minutes).
            control.resetConnectBackoff();
            throw e;
        }
    }

    /** Stops the server's JVM (its streams fail; a fleet starts reconnecting). */
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    @Override
    public void close() {
        if (control != null) {
            control.shutdownNow();
        }
        try {
            stop();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
