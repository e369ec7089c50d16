package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Hashtable;
import java.util.Map;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceRegistration;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The HTTP surface as its bundles run in Felix with real Jetty on a loopback port: who may call it,
 * /metrics against the node directory, collectors other bundles register, and the HTTP bundles
 * stopped and started while nodes stay connected.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HttpIT extends HubTestBase {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("HttpIT", Map.of(), "meshhub");
    }

    private String base() {
        return "http://127.0.0.1:" + context.getProperty(HubTestSupport.HTTP_PORT);
    }

    private HttpResponse<String> get(String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String adminToken() throws IOException {
        return Files.readString(Path.of(context.getProperty("meshhub.home"), "etc/admin.token")).strip();
    }

    /** /metrics as served now, or "" while it does not answer (for polling). */
    private String metricsNow() {
        try {
            HttpResponse<String> response = get("/metrics");
            return response.statusCode() == 200 ? response.body() : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** The status of a GET, or -1 while nothing answers (for polling). */
    private int statusNow(String path) {
        try {
            return get(path).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The value of one unlabelled sample, or of the sample with exactly these labels as printed; NaN when absent. */
    private static double sample(String exposition, String series) {
        for (String line : exposition.split("\n")) {
            if (!line.startsWith("#") && line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return Double.NaN;
    }

    @Test
    public void metricsFollowTheNodeDirectory() throws Exception {
        Poll.until("/metrics served", Duration.ofSeconds(10), () -> statusNow("/metrics") == 200);
        int before = directory.connected().size();
        double opened = sample(metricsNow(), "meshhub_sessions_opened_total");
        double ended = sample(metricsNow(), "meshhub_sessions_closed_total{cause=\"node_ended\"}");
        TestNode node = hub.enroll("metered");
        try (TestStream stream = node.stream().hello().keepAlive()) {
            Poll.until("node listed", Duration.ofSeconds(5), () -> directory.session(node.getNodeId()).isPresent());
            HttpResponse<String> metrics = get("/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
            assertEquals(before + 1, sample(metrics.body(), "meshhub_nodes_connected"), 0);
            assertEquals("a test node says nothing of its confinement", 1,
                    sample(metrics.body(), "meshhub_nodes_by_confinement{confinement=\"unreported\"}") , 0);
            assertEquals(before + 1, sample(metrics.body(), "meshhub_nodes_by_policy_mode{mode=\"STRICT\"}"), 0);
            assertEquals(1, sample(metrics.body(), "meshhub_service_up{service=\"journal\"}"), 0);
            assertTrue("JVM basics", sample(metrics.body(), "jvm_threads_current") > 0);
            assertFalse("no node id on any series", metrics.body().contains(node.getNodeId()));
            stream.cancel();
            Poll.until("node gone from /metrics", Duration.ofSeconds(5),
                    () -> sample(metricsNow(), "meshhub_nodes_connected") == before);
            Poll.until("its session counted as opened, then closed by the node", Duration.ofSeconds(5),
                    () -> sample(metricsNow(), "meshhub_sessions_opened_total") == opened + 1
                            && sample(metricsNow(), "meshhub_sessions_closed_total{cause=\"node_ended\"}") == ended + 1);
        } finally {
            node.close();
        }
    }

    @Test
    public void refusedEnrollmentsAreCountedByReason() throws Exception {
        Poll.until("/metrics served", Duration.ofSeconds(10), () -> statusNow("/metrics") == 200);
        String malformed = "meshhub_enrollment_refusals_total{reason=\"malformed\"}";
        double before = sample(metricsNow(), malformed);
        assertEquals("every reason is served from the start", 0, sample(metricsNow(),
                "meshhub_enrollment_refusals_total{reason=\"rate_limited\"}"), 0);
        org.junit.Assert.assertThrows(io.grpc.StatusRuntimeException.class, () -> hub.node().syncConfiguration(
                dev.meshhub.proto.v1.SyncConfigurationRequest.newBuilder().setInviteToken("not-a-token")
                        .setCsr(TestCertificates.throwawayCsr()).build()));
        Poll.until("the refusal counted as malformed", Duration.ofSeconds(5), () -> sample(metricsNow(), malformed) == before + 1);
    }

    @Test
    public void openPathsNeedNoTokenFromLoopbackAndEverythingElseDoes() throws Exception {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("osgi.http.whiteboard.servlet.pattern", "/it-probe");
        properties.put("osgi.http.whiteboard.context.select", "(osgi.http.whiteboard.context.name=dev.meshhub)");
        ServiceRegistration<Servlet> probe = context.registerService(Servlet.class, new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
                response.getWriter().write("secret page");
            }
        }, properties);
        try {
            Poll.until("probe servlet served", Duration.ofSeconds(10), () -> statusNow("/it-probe") == 401);
            HttpResponse<String> bare = get("/it-probe");
            assertEquals(401, bare.statusCode());
            assertEquals("Bearer realm=\"meshhub\"", bare.headers().firstValue("WWW-Authenticate").orElse(""));
            assertTrue(bare.body(), bare.body().contains("missing admin token"));
            assertFalse(bare.body().contains("secret page"));

            HttpResponse<String> wrong = get("/it-probe", "Authorization", "Bearer " + adminToken() + "x");
            assertEquals(401, wrong.statusCode());
            assertTrue(wrong.body(), wrong.body().contains("wrong admin token"));

            HttpResponse<String> right = get("/it-probe", "Authorization", "Bearer " + adminToken());
            assertEquals(200, right.statusCode());
            assertEquals("secret page", right.body());

            HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/metrics"))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("writes are never open", 401, post.statusCode());

            HttpResponse<String> longQuery = get("/metrics?" + "q=".repeat(20_000));
            assertTrue("a very long query string is refused by Jetty, not served: " + longQuery.statusCode(),
                    longQuery.statusCode() == 414 || longQuery.statusCode() == 431 || longQuery.statusCode() == 400);
            assertEquals("the hub answers normally afterwards", 200, get("/metrics").statusCode());
        } finally {
            probe.unregister();
        }
    }

    @Test
    public void aBundlesCollectorIsServedUntilItLeaves() throws Exception {
        MultiCollector collector = () -> new MetricSnapshots(GaugeSnapshot.builder().name("it_probe_widgets").help("widgets")
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(42).build()).build());
        ServiceRegistration<MultiCollector> registration = context.registerService(MultiCollector.class, collector, null);
        try {
            Poll.until("collector served", Duration.ofSeconds(5), () -> sample(metricsNow(), "it_probe_widgets") == 42);
        } finally {
            registration.unregister();
        }
        assertTrue("gone with its service", Double.isNaN(sample(get("/metrics").body(), "it_probe_widgets")));
    }

    @Test
    public void stoppingAndStartingTheHttpBundlesLeavesNodesConnected() throws Exception {
        TestNode node = hub.enroll("steady-through-http-restart");
        try (TestStream stream = node.stream().hello().keepAlive()) {
            Poll.until("node listed", Duration.ofSeconds(5), () -> directory.session(node.getNodeId()).isPresent());
            var session = directory.session(node.getNodeId()).orElseThrow();
            for (String name : new String[] {"org.apache.felix.http.jetty", "dev.meshhub.metrics", "dev.meshhub.http"}) {
                Bundle bundle = bundle(name);
                bundle.stop();
                Thread.sleep(300);
                assertEquals("node still connected with " + name + " stopped", session.connectedSince(),
                        directory.session(node.getNodeId()).orElseThrow().connectedSince());
                bundle.start();
            }
            Poll.until("/metrics back", Duration.ofSeconds(10), () -> sample(metricsNow(), "meshhub_nodes_connected") >= 1);
            assertEquals("the same session throughout", session.connectedSince(),
                    directory.session(node.getNodeId()).orElseThrow().connectedSince());
        } finally {
            node.close();
        }
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle bundle : context.getBundles()) {
            if (bundle.getSymbolicName().equals(symbolicName)) {
                return bundle;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }
}
