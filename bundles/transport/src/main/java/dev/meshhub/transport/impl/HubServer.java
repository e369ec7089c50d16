package dev.meshhub.transport.impl;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskOutputListener;
import dev.meshhub.proto.v1.NodeSettings;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import dev.meshhub.server.support.StrictRequestParsing;

/**
 * The hub's node-facing gRPC server: the node port (handshake, node streams, health). Offers the live {@link NodeDirectory}.
 *
 * <p>The enrollment store is an optional, dynamic, greedy reference: replacing or restarting the
 * journal never restarts these servers or drops node streams; while no store is bound, calls that
 * need it fail with UNAVAILABLE.
 */
// REQUIRE: start once etc/dev.meshhub.transport.cfg is delivered (an empty file means all defaults),
// rather than binding the default ports first and restarting when the file arrives.
@Component(service = {NodeDirectory.class, TaskDispatcher.class, EventHandler.class, dev.meshhub.api.sync.FileTransfers.class}, immediate = true,
        configurationPid = TransportConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        property = EventConstants.EVENT_TOPIC + "=" + SandboxPolicy.TOPIC_CHANGED)
@Designate(ocd = TransportConfig.class)
public class HubServer implements NodeDirectory, TaskDispatcher, EventHandler, dev.meshhub.api.sync.FileTransfers {

    private static final Logger LOG = LoggerFactory.getLogger(HubServer.class);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile EnrollmentStore enrollmentStore;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile EventAdmin eventAdmin;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile TaskJournal taskJournal;

    /**
     * The sandbox policy: optional (with none, nothing is executed), dynamic and greedy, so a newly
     * deployed policy takes over without restarting this component or dropping a stream (STACK.md
     * trap 8). Method-injected so that a change pushes the new policy to the connected nodes.
     */
    private volatile SandboxPolicy sandboxPolicy;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindSandboxPolicy", updated = "updatedSandboxPolicy")
    void bindSandboxPolicy(SandboxPolicy policy) {
        sandboxPolicy = policy;
        pushPoliciesSoon();
    }

    void updatedSandboxPolicy(SandboxPolicy policy) {
        pushPoliciesSoon();
    }

    void unbindSandboxPolicy(SandboxPolicy policy) {
        // Nothing is pushed while no policy is bound: the hub refuses every task meanwhile (fail
        // closed), and a replacement arriving next pushes its own policy.
        if (sandboxPolicy == policy) {
            sandboxPolicy = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile dev.meshhub.api.mirror.MirrorStore mirrorStore;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile dev.meshhub.api.lock.LockRegistry lockRegistry;

    private volatile Dispatcher dispatcher;
    private volatile FileSync fileSync;
    private ExecutorService fileIo;

    private NodeSessions sessions;
    private ExecutorService nodeCalls;
    private ScheduledExecutorService heartbeats;
    private HealthStatusManager health;
    private Server nodeServer;

    @Activate
    void activate(TransportConfig config, BundleContext context) throws IOException {
        validate(config);
        Clock clock = Clock.systemUTC();
        Path home = Path.of(Optional.ofNullable(context.getProperty("meshhub.home")).orElse(System.getProperty("user.dir")));

        Duration interval = Duration.ofMillis(config.heartbeatIntervalMs());
        sessions = new NodeSessions(clock, interval, Duration.ofMillis(config.heartbeatTimeoutMs()), this::post);
        NodeSettings settings = NodeSettings.newBuilder()
                .setHeartbeatIntervalMs(config.heartbeatIntervalMs())
                .setHeartbeatTimeoutMs(config.heartbeatTimeoutMs())
                .setMaxMessageBytes(config.maxInboundMessageBytes())
                .build();
        EnrollmentRateLimiter rateLimiter = new EnrollmentRateLimiter(clock, config.enrollmentFailuresPerMinute());
        heartbeats = Executors.newSingleThreadScheduledExecutor(named("meshhub-heartbeat"));
        Dispatcher tasks = new Dispatcher(() -> enrollmentStore, () -> taskJournal, () -> sandboxPolicy, sessions, heartbeats,
                Duration.ofMillis(config.defaultTaskTimeoutMs()), Duration.ofMillis(config.killGraceMs()), config.maxPendingTasksPerNode());
        fileIo = Executors.newFixedThreadPool(config.fileIoThreads(), named("meshhub-file-io"));
        FileSync sync = new FileSync(() -> mirrorStore, () -> lockRegistry, () -> enrollmentStore, sessions, fileIo, heartbeats,
                Duration.ofSeconds(config.uploadLockTtlSeconds()), Duration.ofSeconds(config.syncStartTimeoutSeconds()),
                config.maxUploads()).dispatcher(tasks);
        sessions.onSessionEnded((session, cause) -> {
            tasks.sessionEnded(session, cause);
            sync.sessionEnded(session, cause);
        });
        sessions.onSessionRegistered(tasks::pushPolicy);
        NodeServiceImpl nodeService = new NodeServiceImpl(() -> enrollmentStore, sessions, rateLimiter, clock,
                Duration.ofMillis(config.handshakeTimeoutMs()), settings, tasks).withFileSync(sync);

        nodeCalls = Executors.newFixedThreadPool(config.grpcThreads(), named("meshhub-grpc-node"));
        health = new HealthStatusManager();
        try {
            nodeServer = start("node", NettyServerBuilder.forAddress(new InetSocketAddress(config.bindAddress(), config.port()))
                    .executor(nodeCalls)
                    .maxInboundMessageSize(config.maxInboundMessageBytes())
                    .maxInboundMetadataSize(config.maxInboundMetadataBytes())
                    .maxConcurrentCallsPerConnection(config.maxConcurrentCallsPerConnection())
                    .maxRstFramesPerWindow(config.maxRstFramesPerWindow(), config.rstWindowSeconds())
                    .keepAliveTime(config.keepAliveTimeSeconds(), TimeUnit.SECONDS)
                    .keepAliveTimeout(config.keepAliveTimeoutSeconds(), TimeUnit.SECONDS)
                    .permitKeepAliveTime(config.permitKeepAliveTimeSeconds(), TimeUnit.SECONDS)
                    .permitKeepAliveWithoutCalls(true)
                    .handshakeTimeout(config.connectionHandshakeTimeoutSeconds(), TimeUnit.SECONDS)
                    .addService(ServerInterceptors.intercept(StrictRequestParsing.apply(nodeService.bindService()),
                            new NodeAuthInterceptor(() -> enrollmentStore)))
                    .addService(health.getHealthService()), config.bindAddress(), config.port());
        } catch (IOException | RuntimeException e) {
            deactivate();
            throw e;
        }
        long sweepMillis = Math.max(50, Math.min(1000, config.heartbeatIntervalMs() / 2));
        heartbeats.scheduleWithFixedDelay(this::sweep, sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);
        health.setStatus("", ServingStatus.SERVING);
        dispatcher = tasks;
        fileSync = sync;
        LOG.info("nodes connect on {}:{}", config.bindAddress(), nodePort());
    }

    private static Server start(String what, NettyServerBuilder builder, String address, int port) throws IOException {
        try {
            return builder.build().start();
        } catch (IOException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String reason = cause instanceof BindException ? "the address is in use or not local" : cause.toString();
            throw new IOException("cannot listen for " + what + " connections on " + address + ":" + port + " (" + reason
                    + "); change it in etc/" + TransportConfig.PID + ".cfg or with MESHHUB_TRANSPORT_"
                    + (what.equals("node") ? "PORT" : "ADMIN_PORT"), e);
        }
    }

    private void sweep() {
        try {
            sessions.sweep();
        } catch (RuntimeException e) {
            // Never let one bad pass end the heartbeat loop.
            LOG.warn("heartbeat sweep failed", e);
        }
    }

    @Override
    public dev.meshhub.api.sync.TransferHandle pull(String node, String path, dev.meshhub.api.sync.TransferListener listener)
            throws dev.meshhub.api.sync.TransferException {
        return running().pull(node, path, listener);
    }

    @Override
    public dev.meshhub.api.sync.TransferHandle push(String node, String source, String path,
            dev.meshhub.api.sync.TransferListener listener) throws dev.meshhub.api.sync.TransferException {
        return running().push(node, source, path, listener);
    }

    private FileSync running() throws dev.meshhub.api.sync.TransferException {
        FileSync sync = fileSync;
        if (sync == null) {
            throw new dev.meshhub.api.sync.TransferException(dev.meshhub.api.sync.TransferException.Reason.UNAVAILABLE,
                    "the hub's transport is not running; retry shortly");
        }
        return sync;
    }

    @Deactivate
    void deactivate() {
        Dispatcher tasks = dispatcher;
        dispatcher = null;
        if (tasks != null) {
            tasks.stop("the hub's transport stopped while the task was in flight");
        }
        FileSync sync = fileSync;
        fileSync = null;
        if (sync != null) {
            sync.stop();
        }
        if (health != null) {
            health.enterTerminalState();
        }
        if (sessions != null) {
            sessions.closeAll("hub is stopping; reconnect with backoff");
        }
        shutdown(nodeServer);
        if (fileIo != null) {
            // Let the uploads' cleanup (closing mirror files, releasing locks) queued by sync.stop() run.
            fileIo.shutdown();
            try {
                fileIo.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (ExecutorService executor : new ExecutorService[] {heartbeats, nodeCalls, fileIo}) {
            if (executor != null) {
                executor.shutdownNow();
                try {
                    executor.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        LOG.info("transport stopped");
    }

    private static void shutdown(Server server) {
        if (server == null) {
            return;
        }
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private static void validate(TransportConfig config) {
        requirePort("port", config.port());
        if (config.heartbeatIntervalMs() < 50) {
            throw new IllegalArgumentException("heartbeatIntervalMs must be at least 50, got " + config.heartbeatIntervalMs());
        }
        if (config.heartbeatTimeoutMs() <= config.heartbeatIntervalMs()) {
            throw new IllegalArgumentException("heartbeatTimeoutMs (" + config.heartbeatTimeoutMs()
                    + ") must exceed heartbeatIntervalMs (" + config.heartbeatIntervalMs() + ")");
        }
        if (config.handshakeTimeoutMs() < 100) {
            throw new IllegalArgumentException("handshakeTimeoutMs must be at least 100, got " + config.handshakeTimeoutMs());
        }
        if (config.fileIoThreads() < 1 || config.maxUploads() < 1 || config.uploadLockTtlSeconds() < 1
                || config.syncStartTimeoutSeconds() < 1) {
            throw new IllegalArgumentException("fileIoThreads, maxUploads, uploadLockTtlSeconds and syncStartTimeoutSeconds must"
                    + " be at least 1; got " + config.fileIoThreads() + ", " + config.maxUploads() + ", "
                    + config.uploadLockTtlSeconds() + ", " + config.syncStartTimeoutSeconds());
        }
        if (config.grpcThreads() < 1) {
            throw new IllegalArgumentException("grpcThreads must be at least 1, got " + config.grpcThreads());
        }
        if (config.maxInboundMessageBytes() < 1024 || config.maxInboundMetadataBytes() < 1024) {
            throw new IllegalArgumentException("maxInboundMessageBytes and maxInboundMetadataBytes must be at least 1024");
        }
    }

    private static void requirePort(String key, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(key + " must be a TCP port (0-65535), got " + port);
        }
    }

    private void post(String topic, Map<String, Object> properties) {
        EventAdmin events = eventAdmin;
        if (events != null) {
            events.postEvent(new Event(topic, properties));
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** The node port actually bound (differs from the configuration when that is 0). */
    int nodePort() {
        return ((InetSocketAddress) nodeServer.getListenSockets().get(0)).getPort();
    }


    private void pushPoliciesSoon() {
        Dispatcher tasks = dispatcher;
        ScheduledExecutorService executor = heartbeats;
        if (tasks != null && executor != null && !executor.isShutdown()) {
            executor.execute(tasks::pushPolicies);
        }
    }

    @Override
    public void handleEvent(Event event) {
        // A policy changed (SandboxPolicy.TOPIC_CHANGED): push what changed to the connected nodes.
        pushPoliciesSoon();
    }

    @Override
    public TaskHandle dispatch(String node, CommandSpec command, TaskOutputListener output) {
        Dispatcher tasks = dispatcher;
        if (tasks == null) {
            throw new DispatchException(DispatchException.Reason.UNAVAILABLE, "the hub's transport is not running");
        }
        return tasks.dispatch(node, command, output);
    }

    @Override
    public boolean cancel(String taskId, String reason) {
        Dispatcher tasks = dispatcher;
        return tasks != null && tasks.cancel(taskId, reason);
    }

    @Override
    public List<NodeSession> connected() {
        return sessions.connected();
    }

    @Override
    public Optional<NodeSession> session(String nodeId) {
        return sessions.session(nodeId);
    }

    @Override
    public boolean disconnect(String nodeId, DisconnectCause cause, String detail) {
        return sessions.disconnect(nodeId, cause, detail);
    }
}
