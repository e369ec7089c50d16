package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskState;

/**
 * The HTTP surface of a real hub process: /metrics, with real node processes and real tasks, read by a
 * real Prometheus text-format parser (Python's prometheus_client, Debian's python3-prometheus-client,
 * which .ci/run installs) and checked against the journal and the node directory through the admin
 * API; /system/health and meshctl health with the journal's disk made read-only and fixed again.
 */
public class MetricsEndToEndIT {

    private static final Path PYTHON = Path.of("/usr/bin/python3");
    /** Prints every sample as JSON: {"name{label="value",...}": value}, labels sorted by name. */
    private static final String PARSER = String.join("\n",
            "import sys, json",
            "from prometheus_client.parser import text_string_to_metric_families",
            "out = {}",
            "for family in text_string_to_metric_families(sys.stdin.read()):",
            "    for s in family.samples:",
            "        labels = ','.join('%s=\"%s\"' % (k, s.labels[k]) for k in sorted(s.labels))",
            "        out[s.name + ('{' + labels + '}' if labels else '')] = s.value",
            "print(json.dumps(out))");

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest()
            .withHubEnvironment("MESHHUB_METRICS_TASK_COUNT_MAX_AGE_SECONDS", "0");

    @Test
    public void metricsParseAndMatchTheJournalAndTheNodeDirectory() throws Exception {
        runtime.enrolledNode("alpha");
        runtime.enrolledNode("beta");
        runtime.meshctl("exec", "alpha", "--", "echo", "one").assertExit(0);
        runtime.meshctl("exec", "beta", "--", "echo", "two").assertExit(0);
        assertEquals(2, runtime.meshctl("exec", "beta", "--", "ls", "/no/such/path").exit());

        // meshctl status right after: a snapshot taken now, which /metrics agrees with (the monitor's period is 30 s).
        JsonObject status = JsonParser.parseString(runtime.meshctl("status", "--json").assertExit(0).stdout()).getAsJsonObject();
        Map<String, Double> metrics = scrape(null);
        assertEquals("meshctl status is fresh: both nodes, not the snapshot of 30 s ago", 2,
                status.getAsJsonObject("nodes").get("connected").getAsInt());
        assertEquals(status.getAsJsonObject("nodes").get("connected").getAsDouble(), metrics.get("meshhub_nodes_connected"), 0);
        for (var state : status.getAsJsonObject("tasks").entrySet()) {
            assertEquals("tasks " + state.getKey() + " in meshctl status and /metrics", state.getValue().getAsDouble(),
                    metrics.get("meshhub_tasks{state=\"" + state.getKey() + "\"}"), 0);
        }
        int connected = runtime.admin().listNodes(ListNodesRequest.getDefaultInstance()).getNodesCount();
        assertEquals(2, connected);
        assertEquals((double) connected, metrics.get("meshhub_nodes_connected"), 0);
        assertEquals("a real agent reports how it confines (bwrap here, or unconfined with a reason)", (double) connected,
                metrics.get("meshhub_nodes_by_confinement{confinement=\"bwrap\"}")
                        + metrics.get("meshhub_nodes_by_confinement{confinement=\"unconfined\"}"), 0);
        assertEquals((double) connected, metrics.get("meshhub_nodes_by_policy_mode{mode=\"STRICT\"}"), 0);
        assertTrue("two enrollments", metrics.get("meshhub_enrollment_attempts_total") >= 2);

        Map<TaskState, Integer> journal = new EnumMap<>(TaskState.class);
        for (TaskInfo task : runtime.admin().listTasks(ListTasksRequest.newBuilder().setLimit(1000).build()).getTasksList()) {
            journal.merge(task.getState(), 1, Integer::sum);
        }
        for (TaskState state : TaskState.values()) {
            if (state == TaskState.TASK_STATE_UNSPECIFIED || state == TaskState.UNRECOGNIZED) {
                continue;
            }
            assertEquals("tasks " + state + " in /metrics as in the journal", (double) journal.getOrDefault(state, 0),
                    metrics.get("meshhub_tasks{state=\"" + state.name() + "\"}"), 0);
        }
        assertEquals(2.0, metrics.get("meshhub_tasks{state=\"SUCCEEDED\"}"), 0);
        assertEquals("every task dispatched, by kind", 3.0, metrics.get("meshhub_tasks_dispatched_total{kind=\"command\"}"), 0);
        assertEquals("each task's start timed once", 3.0, metrics.get("meshhub_dispatch_start_seconds_count"), 0);
        assertEquals(3.0, metrics.get("meshhub_dispatch_start_seconds_bucket{le=\"+Inf\"}"), 0);
        assertTrue("the journal committed and timed it", metrics.get("meshhub_journal_commit_seconds_count") > 0);
        assertEquals("every commit has a size", metrics.get("meshhub_journal_commit_seconds_count"),
                metrics.get("meshhub_journal_writes_per_commit_count"), 0);
        assertTrue("two sessions opened", metrics.get("meshhub_sessions_opened_total") >= 2);
        assertEquals(0.0, metrics.get("meshhub_locks_live"), 0);
        assertEquals(1.0, metrics.get("meshhub_management_task_state{state=\"WAITING\",task=\"mesh-monitor\"}")
                + metrics.get("meshhub_management_task_state{state=\"RUNNING\",task=\"mesh-monitor\"}"), 0);
        assertTrue("JVM basics", metrics.get("jvm_memory_used_bytes{area=\"heap\"}") > 0);
        assertTrue("process basics", metrics.get("process_open_fds") > 0);
        for (var node : runtime.admin().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList()) {
            assertFalse("no node id or name in any series", metrics.keySet().stream()
                    .anyMatch(key -> key.contains(node.getNodeId()) || key.contains("\"" + node.getName() + "\"")));
        }
    }

    @Test
    public void theAdminTokenOpensMetricsAndAWrongOneDoesNot() throws Exception {
        String token = Files.readString(runtime.home.resolve("etc/admin.token")).strip();
        assertTrue(scrape("Bearer " + token).containsKey("meshhub_nodes_connected"));
        HttpResponse<String> wrong = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + runtime.httpPort + "/metrics")).header("Authorization", "Bearer nope")
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, wrong.statusCode());
        assertTrue(wrong.body(), wrong.body().contains("wrong admin token"));
    }

    @Test
    public void healthGoesUnhealthyNamingTheJournalWhenItsDiskIsReadOnlyAndRecovers() throws Exception {
        RuntimeUnderTest.Result healthy = runtime.meshctl("health");
        assertEquals(healthy.stdout() + healthy.stderr(), 0, healthy.exit());
        for (String check : new String[] {"journal", "transport", "mirror-disk-reserve", "scheduler", "services"}) {
            assertTrue(check + " listed: " + healthy.stdout(), healthy.stdout().contains("OK       " + check));
        }
        assertEquals(200, health().statusCode());

        try (ReadOnlyDirectory readOnly = ReadOnlyDirectory.make(runtime.home.resolve("data/journal/log"))) {
            Poll.until("/system/health answers 503", RuntimeUnderTest.PATIENCE, () -> healthStatus() == 503);
            HttpResponse<String> unhealthy = health();
            JsonObject report = JsonParser.parseString(unhealthy.body()).getAsJsonObject();
            assertEquals("CRITICAL", report.get("status").getAsString());
            JsonObject worst = report.getAsJsonArray("checks").get(0).getAsJsonObject();
            assertEquals("the failing check is named first", "journal", worst.get("name").getAsString());
            assertTrue(unhealthy.body(), worst.toString().contains("cannot create a file in"));
            RuntimeUnderTest.Result cli = runtime.meshctl("health");
            assertEquals("meshctl health exits 3 when unhealthy: " + cli.stdout(), 3, cli.exit());
            assertTrue(cli.stdout(), cli.stdout().startsWith("CRITICAL (unhealthy)"));
            assertTrue(cli.stdout(), cli.stdout().contains("CRITICAL journal"));
        }
        Poll.until("/system/health back to 200 once the directory is writable", RuntimeUnderTest.PATIENCE,
                () -> healthStatus() == 200);
        assertEquals(0, runtime.meshctl("health").exit());
    }

    @Test
    public void httpsServesWithTheHubsOwnCertificate() throws Exception {
        int httpsPort = HubTestSupport.freePort();
        Path felixHttp = runtime.home.resolve("etc/org.apache.felix.http.cfg");
        // As README says: uncomment the HTTPS keys, with a port of the test's own.
        String enabled = Files.readString(felixHttp).replace("#org.apache.felix.https.", "org.apache.felix.https.")
                .replace("#org.osgi.service.http.port.secure = 7703", "org.osgi.service.http.port.secure = " + httpsPort);
        Files.writeString(felixHttp, enabled);
        Path keystore = runtime.home.resolve("data/http/keystore.p12");
        Poll.until("the keystore written", RuntimeUnderTest.PATIENCE, () -> Files.isRegularFile(keystore));
        assertEquals("owner-only", "rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(keystore)));

        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        try (java.io.InputStream pem = Files.newInputStream(runtime.home.resolve("data/pki/trust.pem"))) {
            for (java.security.cert.Certificate ca : java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(pem)) {
                trust.setCertificateEntry("ca" + i++, ca);
            }
        }
        javax.net.ssl.TrustManagerFactory trusting = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        trusting.init(trust);
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
        tls.init(null, trusting.getTrustManagers(), null);
        HttpClient https = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
        URI metrics = URI.create("https://127.0.0.1:" + httpsPort + "/metrics");
        Poll.until("HTTPS answering with the hub's certificate", RuntimeUnderTest.PATIENCE, () -> {
            try {
                return https.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
            } catch (Exception e) {
                return false;
            }
        });
        HttpResponse<String> answer = https.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(answer.body(), answer.body().contains("meshhub_nodes_connected"));
        java.security.cert.X509Certificate served = (java.security.cert.X509Certificate) answer.sslSession().orElseThrow()
                .getPeerCertificates()[0];
        assertTrue("the node port's certificate: " + served.getSubjectAlternativeNames(), served.getSubjectAlternativeNames().stream()
                .anyMatch(name -> String.valueOf(name.get(1)).startsWith("meshhub://hub/")));
        assertEquals("TLSv1.3", answer.sslSession().orElseThrow().getProtocol());
        // A client that does not trust the hub's CA gets no answer.
        HttpClient stranger = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        org.junit.Assert.assertThrows(java.io.IOException.class, () -> stranger.send(HttpRequest.newBuilder(metrics).build(),
                HttpResponse.BodyHandlers.ofString()));
    }

    private HttpResponse<String> health() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.httpPort
                + "/system/health")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private int healthStatus() {
        try {
            return health().statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    /** /metrics parsed by prometheus_client; fails the test if the exposition does not parse. */
    private Map<String, Double> scrape(String authorization) throws Exception {
        assertTrue("the test needs " + PYTHON + " with Debian's python3-prometheus-client (apt-get install"
                + " python3-prometheus-client; .ci/run installs it)", Files.isExecutable(PYTHON));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.httpPort + "/metrics"))
                .timeout(Duration.ofSeconds(10));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        HttpResponse<String> response = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(response.body(), 200, response.statusCode());
        Process parser = new ProcessBuilder(PYTHON.toString(), "-c", PARSER).start();
        parser.getOutputStream().write(response.body().getBytes(StandardCharsets.UTF_8));
        parser.getOutputStream().close();
        String parsed = new String(parser.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String errors = new String(parser.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue("parser did not finish", parser.waitFor(30, TimeUnit.SECONDS));
        assertEquals("the exposition parses (" + errors + ")", 0, parser.exitValue());
        Map<String, Double> samples = new HashMap<>();
        JsonObject object = JsonParser.parseString(parsed).getAsJsonObject();
        object.entrySet().forEach(entry -> samples.put(entry.getKey(), entry.getValue().getAsDouble()));
        return samples;
    }
}
