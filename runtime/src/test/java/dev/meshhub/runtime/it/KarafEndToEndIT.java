package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.ListNodesRequest;

/**
 * meshhub in a stock Apache Karaf, as an integrator installs it: Karaf unpacked from its Maven Central
 * archive, driven through its own client in batch mode ({@code feature:repo-add}, {@code
 * feature:install meshhub}); a real meshnode enrolls against it and meshctl lists the node and runs a
 * command. Then bundles are updated and refreshed the way Karaf admins do, with the node connected.
 */
public class KarafEndToEndIT {

    private static final Duration PATIENCE = Duration.ofSeconds(120);

    @Rule
    public final RuntimeUnderTest runtime = RuntimeUnderTest.withoutHub();

    private Path karaf;
    private int sshPort;
    private Process server;

    @Before
    public void unpackAndStartKaraf() throws Exception {
        String unpacked = System.getProperty("meshhub.karaf.dir");
        assertTrue("system property meshhub.karaf.dir is not set; run the ITs through Maven (failsafe)", unpacked != null);
        karaf = Files.createDirectories(Path.of("target/karaf-e2e").toAbsolutePath()).resolve("karaf-" + System.nanoTime());
        runtime.run(List.of("cp", "-a", unpacked, karaf.toString()), Map.of(), 120, null).assertExit(0);
        sshPort = HubTestSupport.freePort();

        // A login for the batch client (Karaf ships it commented out), ports of our own, and no remote
        // Maven repository: Karaf's own system/ plus the assembled meshhub runtime's system/ (Maven layout).
        replace("etc/users.properties", "#karaf = karaf,_g_:admingroup", "karaf = karaf,_g_:admingroup");
        replace("etc/users.properties", "#_g_\\:admingroup = ", "_g_\\:admingroup = ");
        replace("etc/org.apache.karaf.shell.cfg", "sshPort = 8101", "sshPort = " + sshPort);
        replace("etc/org.apache.karaf.management.cfg", "rmiRegistryPort = 1099", "rmiRegistryPort = " + HubTestSupport.freePort());
        replace("etc/org.apache.karaf.management.cfg", "rmiServerPort = 44444", "rmiServerPort = " + HubTestSupport.freePort());
        String system = HubTestSupport.runtimeDirectory().resolve("system").toUri().toString();
        replace("etc/org.ops4j.pax.url.mvn.cfg", "@id=child.system.repository@snapshots",
                "@id=child.system.repository@snapshots, \\\n    " + system + "@id=meshhub@snapshots");
        String mvn = Files.readString(karaf.resolve("etc/org.ops4j.pax.url.mvn.cfg"));
        Files.writeString(karaf.resolve("etc/org.ops4j.pax.url.mvn.cfg"),
                mvn.replaceAll("org\\.ops4j\\.pax\\.url\\.mvn\\.repositories=[^\\n]*(\\n    [^\\n]*)*", "org.ops4j.pax.url.mvn.repositories="));
        // The admin's own settings, written before the features arrive: Karaf never overwrites them.
        Files.writeString(karaf.resolve("etc/dev.meshhub.transport.cfg"),
                "port = " + runtime.nodePort + "\nbindAddress = 127.0.0.1\n");
        Files.writeString(karaf.resolve("etc/dev.meshhub.admin.cfg"), "port = " + runtime.adminPort + "\n");
        Files.writeString(karaf.resolve("etc/org.apache.felix.http.cfg"), "org.apache.felix.http.enable = true\n"
                + "org.apache.felix.http.host = 127.0.0.1\norg.osgi.service.http.port = " + runtime.httpPort + "\n");

        server = runtime.start(karaf.resolve("karaf.out"), javaHome(), karaf.resolve("bin/karaf").toString(), "server");
        Poll.until("Karaf's ssh console on port " + sshPort, PATIENCE, () -> !server.isAlive() || HubClient.listens(sshPort));
        assertTrue("Karaf died at start:\n" + log(karaf.resolve("karaf.out")), server.isAlive());
    }

    @After
    public void stopKaraf() throws Exception {
        if (server == null) {
            return;
        }
        // bin/karaf is a script: its JVM is a child that must not outlive a failed test.
        var jvms = server.descendants().toList();
        if (server.isAlive()) {
            server.destroy();
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
        for (ProcessHandle jvm : jvms) {
            jvm.destroy();
            try {
                jvm.onExit().get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException stuck) {
                jvm.destroyForcibly();
            }
        }
    }

    @Test
    public void aStockKarafRunsAWorkingHubThatANodeJoinsAndMeshctlDrives() throws Exception {
        // The core first (the node port, the admin API, the policy; the journal comes with the transport).
        String features = System.getProperty("meshhub.features.location");
        String installed = client("feature:repo-add " + features, "feature:install meshhub-transport meshhub-admin meshhub-policy",
                "feature:list -i");
        assertTrue(installed, installed.contains("meshhub-transport") && installed.contains("meshhub-admin"));
        Poll.until("the node port and the admin API in Karaf", PATIENCE,
                () -> HubClient.listens(runtime.nodePort) && HubClient.listens(runtime.adminPort));
        assertTrue("Karaf copied the features' default configuration", Files.isRegularFile(karaf.resolve("etc/dev.meshhub.journal.cfg")));
        assertEquals("and left the admin's own file alone", "port = " + runtime.adminPort + "\n",
                Files.readString(karaf.resolve("etc/dev.meshhub.admin.cfg")));
        runtime.adminTokenFile = karaf.resolve("etc/admin.token");
        Poll.until("the admin token in Karaf's etc/", PATIENCE, () -> Files.isRegularFile(runtime.adminTokenFile));

        String token = runtime.meshctl("invite", "create").assertExit(0).stdout().strip();
        Process node = runtime.meshnode(runtime.home.resolve("karaf-node-workspace"), "--token", token, "--name", "karaf-node");
        Poll.until("karaf-node listed by meshctl", PATIENCE, () -> runtime.meshctlQuietly("nodes").contains("karaf-node"));
        RuntimeUnderTest.Result exec = runtime.meshctl("exec", "karaf-node", "--", "echo", "hello-from-karaf");
        exec.assertExit(0);
        assertTrue(exec.stdout(), exec.stdout().contains("hello-from-karaf"));
        // The rest of the hub added to the running one (shell, scheduler, locks, mirror, monitor), then
        // meshhub bundles updated and one refreshed, as Karaf admins do: none of it cascades into the
        // transport, so the node's session is the same one throughout.
        long since = connectedSince("karaf-node");
        client("feature:install meshhub");
        assertTrue("meshhub's Gogo commands run in Karaf's shell", client("mesh:nodes").contains("karaf-node"));
        client("bundle:update dev.meshhub.policy", "bundle:refresh dev.meshhub.policy", "bundle:update dev.meshhub.monitor",
                "bundle:update dev.meshhub.admin");
        Poll.until("the updated admin API answering", PATIENCE, () -> runtime.meshctlQuietly("nodes").contains("karaf-node"));
        assertEquals("the node's session survived", since, connectedSince("karaf-node"));
        assertTrue(node.isAlive());
        String agentLog = runtime.log("karaf-node-workspace.log");
        assertFalse(agentLog, agentLog.contains("disconnected"));
        runtime.meshctl("exec", "karaf-node", "--", "echo", "after-updates").assertExit(0);

        // The HTTP surface in Karaf too: health and metrics over Felix HTTP Jetty.
        Poll.until("/system/health answers 200 in Karaf", PATIENCE, () -> httpGet("/system/health").startsWith("200 "));
        assertTrue(httpGet("/metrics"), httpGet("/metrics").contains("meshhub_nodes_connected 1.0"));
        assertTrue("JVM metrics in Karaf (com.sun.management boot-delegated)", httpGet("/metrics").contains("process_cpu_seconds_total"));
        assertTrue(runtime.meshctl("health").assertExit(0).stdout().startsWith("OK (healthy)"));
    }

    /** "STATUS body" of a GET on Karaf's HTTP port, or "" while it does not answer. */
    private String httpGet(String path) {
        try {
            java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + runtime.httpPort + path))
                            .timeout(Duration.ofSeconds(10)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            return response.statusCode() + " " + response.body();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private long connectedSince(String name) throws Exception {
        return runtime.admin().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .filter(n -> n.getName().equals(name)).findFirst().orElseThrow().getConnectedSinceMs();
    }

    /** Runs Karaf console commands through its ssh client in batch mode; returns what they printed. */
    private String client(String... commands) throws Exception {
        Path input = Files.createTempFile(karaf, "commands", ".txt");
        Files.writeString(input, String.join("\n", commands) + "\n");
        ProcessBuilder builder = new ProcessBuilder(karaf.resolve("bin/client").toString(), "-a", String.valueOf(sshPort),
                "-u", "karaf", "-p", "karaf", "-r", "30", "-d", "2", "-b")
                .redirectInput(input.toFile())
                .redirectErrorStream(true)
                .redirectOutput(karaf.resolve("client.out").toFile());
        builder.environment().putAll(javaHome());
        Process client = builder.start();
        assertTrue("the Karaf client ended", client.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        String output = log(karaf.resolve("client.out"));
        assertEquals("Karaf client exit; output:\n" + output + "\nkaraf.log:\n" + tail(karaf.resolve("data/log/karaf.log")),
                0, client.exitValue());
        return output;
    }

    private void replace(String file, String from, String to) throws IOException {
        Path path = karaf.resolve(file);
        String text = Files.readString(path);
        assertTrue(file + " has no '" + from + "' (another Karaf version?)", text.contains(from));
        Files.writeString(path, text.replace(from, to));
    }

    private static Map<String, String> javaHome() {
        return Map.of("JAVA_HOME", System.getProperty("java.home"));
    }

    private static String log(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "(no " + file + ")";
    }

    private static String tail(Path file) throws IOException {
        String text = log(file);
        return text.length() > 20_000 ? text.substring(text.length() - 20_000) : text;
    }
}
