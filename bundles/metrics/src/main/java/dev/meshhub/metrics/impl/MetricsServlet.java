package dev.meshhub.metrics.impl;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskJournal;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /metrics} in the Prometheus text format (0.0.4), in meshhub's servlet context (so the HTTP
 * bundle's access rules apply). One registry of this component's own: the mesh read from meshhub's
 * services at each scrape ({@link MeshCollector}), the JVM's metrics, and every {@link Collector} or
 * {@link MultiCollector} service any bundle registers — the way a bundle publishes its own series
 * (histograms of its latencies, say), which then leave with the bundle. A collector whose names clash
 * with one already registered is refused with a log line, and the others keep serving.
 */
@Component(service = Servlet.class, configurationPid = MetricsConfiguration.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = {"osgi.http.whiteboard.servlet.pattern=/metrics",
            "osgi.http.whiteboard.servlet.name=meshhub-metrics",
            "osgi.http.whiteboard.context.select=(osgi.http.whiteboard.context.name=dev.meshhub)"})
@Designate(ocd = MetricsConfiguration.class)
public final class MetricsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServlet.class);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile NodeDirectory nodeDirectory;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile TaskJournal taskJournal;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile LockRegistry lockRegistry;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile ManagementScheduler managementScheduler;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile SandboxPolicy sandboxPolicy;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile TaskDispatcher taskDispatcher;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile dev.meshhub.api.sync.FileTransfers fileTransfers;

    private final transient PrometheusRegistry registry = new PrometheusRegistry();
    private final transient Map<Object, Boolean> contributed = new ConcurrentHashMap<>();
    private final transient PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private transient MeshCollector mesh;

    @Activate
    void activate(MetricsConfiguration config) {
        mesh = new MeshCollector(new MeshCollector.Services(() -> nodeDirectory, () -> taskJournal, () -> lockRegistry,
                () -> managementScheduler, () -> sandboxPolicy, () -> taskDispatcher, () -> fileTransfers), Clock.systemUTC(),
                Duration.ofSeconds(config.taskCountMaxAgeSeconds()), Duration.ofMillis(config.journalTimeoutMillis()));
        registry.register(mesh);
        if (config.jvm()) {
            JvmMetrics.builder().register(registry);
        }
        LOG.info("Prometheus metrics at /metrics (tasks counted at most every {} s{})", config.taskCountMaxAgeSeconds(),
                config.jvm() ? ", JVM metrics included" : "");
    }

    @Deactivate
    void deactivate() {
        registry.clear();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addCollector(Collector collector) {
        contribute(collector, () -> registry.register(collector));
    }

    void removeCollector(Collector collector) {
        if (contributed.remove(collector) != null) {
            registry.unregister(collector);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addMultiCollector(MultiCollector collector) {
        contribute(collector, () -> registry.register(collector));
    }

    void removeMultiCollector(MultiCollector collector) {
        if (contributed.remove(collector) != null) {
            registry.unregister(collector);
        }
    }

    private void contribute(Object collector, Runnable register) {
        try {
            register.run();
            contributed.put(collector, Boolean.TRUE);
        } catch (IllegalArgumentException | IllegalStateException clash) {
            LOG.error("metrics collector {} refused: {}", collector.getClass().getName(), clash.getMessage());
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream(64 * 1024);
        writer.write(body, registry.scrape());
        response.setStatus(200);
        response.setContentType(writer.getContentType());
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.size());
        if (!"HEAD".equals(request.getMethod())) {
            body.writeTo(response.getOutputStream());
        }
    }
}
