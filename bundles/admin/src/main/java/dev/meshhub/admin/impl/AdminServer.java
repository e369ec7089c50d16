package dev.meshhub.admin.impl;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.admin.AdminCredentials;
import dev.meshhub.api.health.HubHealth;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.monitor.MeshStatus;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.policy.PolicyAdministration;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.sync.FileTransfers;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.server.config.ConfigCheck;
import dev.meshhub.server.support.EventLoops;
import dev.meshhub.server.support.Peers;
import dev.meshhub.server.support.PkiTls;
import dev.meshhub.server.support.GrpcServers;
import dev.meshhub.server.support.StrictRequestParsing;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

/**
 * The admin gRPC API (meshctl's server) on its own port. A front end over meshhub's API services
 * only, like the shell: every service is an optional, dynamic, greedy reference, so the journal, the
 * transport, the policy or the monitor come and go without restarting this component, and this
 * component comes and goes without touching them (node streams included).
 *
 * <p>Configuration applies live: a new port or address starts the new listener first, then stops
 * the old one (calls in flight get {@link AdminConfig#stopGraceMs()} to finish); connection limits
 * restart the listener on its address; a new token file is read at once; the other keys apply to the
 * next call. A configuration with a bad value is refused
 * with the key named and the running API keeps its settings. Stopping ends the long calls (exec,
 * sync) with UNAVAILABLE; the tasks and transfers behind them go on.
 */
@Component(service = AdminCredentials.class, immediate = true, configurationPid = AdminConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = AdminConfig.class)
public class AdminServer implements HubServices, AdminCredentials {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile EnrollmentStore enrollmentStore;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile NodeDirectory nodeDirectory;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile TaskDispatcher taskDispatcher;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile TaskJournal taskJournal;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile SandboxPolicy sandboxPolicy;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile PolicyAdministration policyAdministration;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile ManagementScheduler managementScheduler;
    /** The highest-ranked monitor answers meshctl status. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile MeshStatus meshStatus;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile HubHealth hubHealth;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile FileTransfers fileTransfers;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile EventAdmin eventAdmin;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile HubPki hubPki;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile TaskLogs taskLogs;

    private final Object lifecycle = new Object();
    private final ConfigCheck check = ConfigCheck.forPid(AdminConfig.PID, AdminServer.class);
    private final LongCalls longCalls = new LongCalls();
    private EventLoops loops;
    private Path home;
    private ThreadPoolExecutor calls;
    /** Threads reading task logs for ReadTaskOutput (never gRPC threads). */
    private ThreadPoolExecutor logReads;
    private volatile AdminConfig settings;
    private volatile AdminToken token;
    private Server server;

    @Activate
    void activate(BundleContext context, AdminConfig config, Map<String, Object> properties) throws IOException {
        synchronized (lifecycle) {
            home = Path.of(Optional.ofNullable(context.getProperty("meshhub.home")).orElse(System.getProperty("user.dir")));
            ConfigCheck.Result result = checked(properties);
            if (!result.ok()) {
                throw new IllegalArgumentException(result.refusal("the admin API does not start"));
            }
            token = AdminToken.loadOrCreate(home.resolve(config.tokenFile()));
            loops = EventLoops.create("meshhub-admin");
            logReads = OutputCalls.threads();
            calls = new ThreadPoolExecutor(config.threads(), config.threads(), 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), GrpcServers.threads("meshhub-grpc-admin"));
            settings = config;
            try {
                server = listen(config);
            } catch (IOException | RuntimeException e) {
                calls.shutdownNow();
                logReads.shutdownNow();
                loops.close();
                throw e;
            }
            LOG.info("admin API on {}:{} ({})", config.bindAddress(), GrpcServers.port(server), tls(config) ? "TLS 1.3, the hub's"
                    + " certificate; meshctl verifies it with --ca-pin or --ca-file" : "plaintext, loopback only");
        }
    }

    /** The token the admin API checks, for the HTTP surfaces (read anew when {@code tokenFile} changes). */
    @Override
    public boolean accepts(String presentedToken) {
        AdminToken current = token;
        return current != null && current.matches(presentedToken);
    }

    @Modified
    void modified(AdminConfig config, Map<String, Object> properties) {
        synchronized (lifecycle) {
            ConfigCheck.Result result = checked(properties);
            if (!result.ok()) {
                LOG.error(result.refusal("the admin API keeps its settings"));
                return;
            }
            AdminConfig previous = settings;
            if (!config.tokenFile().equals(previous.tokenFile())) {
                try {
                    token = AdminToken.loadOrCreate(home.resolve(config.tokenFile()));
                } catch (IOException | RuntimeException e) {
                    LOG.error("configuration {} refused, the admin API keeps its settings: tokenFile {}: {}", AdminConfig.PID,
                            config.tokenFile(), e.getMessage());
                    return;
                }
                LOG.info("admin API now checks the token in {}", token.file());
            }
            boolean moved = !config.bindAddress().equals(previous.bindAddress()) || config.port() != previous.port();
            boolean reshaped = config.maxConcurrentCallsPerConnection() != previous.maxConcurrentCallsPerConnection()
                    || config.maxInboundMetadataBytes() != previous.maxInboundMetadataBytes()
                    || config.connectionHandshakeTimeoutSeconds() != previous.connectionHandshakeTimeoutSeconds()
                    || tls(config) != tls(previous);
            GrpcServers.resize(calls, config.threads());
            settings = config;
            if (moved || reshaped) {
                relisten(previous, config, moved);
            }
        }
    }

    /**
     * Moves the listener to a new configuration. To a new address the new listener starts first, so a
     * failure leaves the old one as it was; on the same address the old one must stop first (the port
     * is taken), and it comes back if the new one cannot start.
     */
    private void relisten(AdminConfig previous, AdminConfig next, boolean moved) {
        Server old = server;
        if (moved) {
            try {
                server = listen(next);
            } catch (IOException | RuntimeException e) {
                LOG.error("admin API stays on {}:{}: {}", previous.bindAddress(), GrpcServers.port(old), e.getMessage());
                settings = previous;
                return;
            }
            GrpcServers.stop(old, next.stopGraceMs());
        } else {
            GrpcServers.stop(old, next.stopGraceMs());
            try {
                server = listen(next);
            } catch (IOException | RuntimeException e) {
                LOG.error("admin API settings not applied: {}; back to the previous ones", e.getMessage());
                settings = previous;
                try {
                    server = listen(previous);
                } catch (IOException | RuntimeException again) {
                    server = null;
                    LOG.error("the admin API is down: {}; fix etc/{}.cfg", again.getMessage(), AdminConfig.PID);
                    return;
                }
            }
        }
        LOG.info("admin API now on {}:{}", settings.bindAddress(), GrpcServers.port(server));
    }

    @Deactivate
    void deactivate() {
        synchronized (lifecycle) {
            // Long calls end with a clear status; what runs behind them (tasks, transfers) goes on.
            longCalls.detachAll(Status.UNAVAILABLE.withDescription("the hub's admin API is stopping (its bundle was stopped,"
                    + " updated or reconfigured); reconnect shortly"));
            GrpcServers.stop(server, settings.stopGraceMs());
            server = null;
            if (loops != null) {
                loops.close();
            }
            if (logReads != null) {
                logReads.shutdownNow();
            }
            if (calls != null) {
                calls.shutdownNow();
                try {
                    calls.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            LOG.info("admin API stopped");
        }
    }

    private ConfigCheck.Result checked(Map<String, Object> properties) {
        ConfigCheck.Result result = check.check(properties);
        if (result.unknownKeysWarning() != null) {
            LOG.warn(result.unknownKeysWarning());
        }
        return result;
    }

    private Server listen(AdminConfig config) throws IOException {
        AdminServiceImpl service = new AdminServiceImpl(this, longCalls, () -> settings.execBufferBytes(), logReads);
        NettyServerBuilder builder = loops.apply(NettyServerBuilder.forAddress(new InetSocketAddress(config.bindAddress(), config.port())));
        if (tls(config)) {
            // Beyond loopback the admin token must never cross the network in the clear.
            builder.sslContext(PkiTls.serverContext(() -> hubPki, List.of("TLSv1.3"), null));
        }
        return GrpcServers.start("admin", builder
                        .executor(calls)
                        .maxInboundMessageSize(64 * 1024)
                        .maxInboundMetadataSize(config.maxInboundMetadataBytes())
                        .maxConcurrentCallsPerConnection(config.maxConcurrentCallsPerConnection())
                        .handshakeTimeout(config.connectionHandshakeTimeoutSeconds(), TimeUnit.SECONDS)
                        .addService(ServerInterceptors.intercept(StrictRequestParsing.apply(service.bindService()),
                                new AdminAuthInterceptor(() -> token))),
                config.bindAddress(), config.port(), "etc/" + AdminConfig.PID + ".cfg (port, bindAddress) or MESHHUB_ADMIN_PORT");
    }

    /** Whether the admin API speaks TLS with this configuration: always beyond loopback, on loopback if asked. */
    static boolean tls(AdminConfig config) {
        return config.tls() || !Peers.isLoopback(config.bindAddress());
    }

    /** The port the admin API listens on now; -1 when it does not. */
    int port() {
        synchronized (lifecycle) {
            return server == null ? -1 : GrpcServers.port(server);
        }
    }

    @Override
    public EnrollmentStore enrollment() {
        return enrollmentStore;
    }

    @Override
    public NodeDirectory nodes() {
        return nodeDirectory;
    }

    @Override
    public TaskDispatcher dispatcher() {
        return taskDispatcher;
    }

    @Override
    public TaskJournal journal() {
        return taskJournal;
    }

    @Override
    public SandboxPolicy policy() {
        return sandboxPolicy;
    }

    @Override
    public PolicyAdministration policyAdministration() {
        return policyAdministration;
    }

    @Override
    public ManagementScheduler scheduler() {
        return managementScheduler;
    }

    @Override
    public MeshStatus meshStatus() {
        return meshStatus;
    }

    @Override
    public HubHealth health() {
        return hubHealth;
    }

    @Override
    public FileTransfers transfers() {
        return fileTransfers;
    }

    @Override
    public HubPki pki() {
        return hubPki;
    }

    @Override
    public TaskLogs taskLogs() {
        return taskLogs;
    }

    @Override
    public void post(String topic, Map<String, Object> properties) {
        EventAdmin events = eventAdmin;
        if (events != null) {
            events.postEvent(new Event(topic, properties));
        }
    }
}
