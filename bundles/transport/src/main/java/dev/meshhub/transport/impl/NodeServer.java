package dev.meshhub.transport.impl;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.server.support.ConnectionGate;
import dev.meshhub.server.support.EventLoops;
import dev.meshhub.server.support.GrpcServers;
import dev.meshhub.server.support.StrictRequestParsing;
import dev.meshhub.transport.impl.dispatch.Dispatcher;
import dev.meshhub.transport.impl.rpc.EnrollmentRateLimiter;
import dev.meshhub.transport.impl.rpc.NodeAuthInterceptor;
import dev.meshhub.transport.impl.rpc.NodeServiceImpl;
import dev.meshhub.transport.impl.session.NodeSessions;
import dev.meshhub.transport.impl.sync.FileSyncService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;

/**
 * The node port: the gRPC listener nodes connect to, with the node service, authentication and
 * health. The sessions, the dispatcher and file sync are components of their own that it serves.
 *
 * <p>Configuration applies without restarting the component. Handshake timeout, rate limit and
 * thread count apply at once. The connection keys (message and header sizes, calls per connection,
 * rapid-reset limit, keepalive, connection handshake) reshape the listener: the old one stops
 * accepting and lets its connections run on, so no node is dropped, and a new one with the new
 * settings takes the port. A new port or address moves the listener: the new one opens first (a
 * failure leaves everything as it was), then the nodes on the old one are told the port moved and
 * reconnect.
 */
@Component(service = HealthCheck.class, immediate = true, configurationPid = TransportConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        property = {HealthCheck.NAME + "=transport", HealthCheck.TAGS + "=meshhub"})
@Designate(ocd = TransportConfig.class)
public final class NodeServer implements HealthCheck {

    private static final Logger LOG = LoggerFactory.getLogger(NodeServer.class);
    private static final long DRAIN_STOP_MILLIS = 5000;

    /** The settings that shape a listener's connections (grpc-java fixes them when the server is built). */
    private record Shape(String bindAddress, int port, int maxInboundMessageBytes, int maxInboundMetadataBytes,
                         int maxConcurrentCallsPerConnection, int maxRstFramesPerWindow, int rstWindowSeconds,
                         int keepAliveTimeSeconds, int keepAliveTimeoutSeconds, int permitKeepAliveTimeSeconds,
                         int connectionHandshakeTimeoutSeconds, boolean plaintext, List<String> tlsProtocols,
                         int idleConnectionTimeoutSeconds) {
        static Shape of(TransportConfig c) {
            return new Shape(c.bindAddress(), c.port(), c.maxInboundMessageBytes(), c.maxInboundMetadataBytes(),
                    c.maxConcurrentCallsPerConnection(), c.maxRstFramesPerWindow(), c.rstWindowSeconds(), c.keepAliveTimeSeconds(),
                    c.keepAliveTimeoutSeconds(), c.permitKeepAliveTimeSeconds(), c.connectionHandshakeTimeoutSeconds(),
                    c.plaintext(), List.copyOf(TransportConfigCheck.protocols(c.tlsProtocols())), c.idleConnectionTimeoutSeconds());
        }

        boolean sameAddress(Shape other) {
            return bindAddress.equals(other.bindAddress) && port == other.port;
        }

        Shape withPort(int actual) {
            return new Shape(bindAddress, actual, maxInboundMessageBytes, maxInboundMetadataBytes, maxConcurrentCallsPerConnection,
                    maxRstFramesPerWindow, rstWindowSeconds, keepAliveTimeSeconds, keepAliveTimeoutSeconds,
                    permitKeepAliveTimeSeconds, connectionHandshakeTimeoutSeconds, plaintext, tlsProtocols, idleConnectionTimeoutSeconds);
        }
    }

    /** One listener and the node service behind it. */
    private record Listener(Server server, NodeServiceImpl service, Shape shape) {
        int port() {
            return GrpcServers.port(server);
        }
    }

    private final NodeSessions sessions;
    private final Dispatcher dispatcher;
    private final FileSyncService sync;
    private final Clock clock = Clock.systemUTC();
    private final ThreadPoolExecutor calls;
    private final EnrollmentRateLimiter rateLimiter;
    private final HealthStatusManager health = new HealthStatusManager();
    private final EventLoops loops;
    /** Listeners that stopped accepting but still carry connections, until those end. */
    private final List<Server> draining = new ArrayList<>();
    private volatile Duration handshakeTimeout;
    private volatile int maxUnauthenticatedConnections;
    /** Caps anonymous connections across this component's listeners. */
    private final ConnectionGate gate = new ConnectionGate(() -> maxUnauthenticatedConnections);
    private long refusalsReported;
    private long refusalsReportedAtNanos = System.nanoTime() - TimeUnit.MINUTES.toNanos(1);
    private volatile EnrollmentStore enrollmentStore;
    private volatile HubPki pki;
    private Listener listener;
    /** The CA rotation's steps, once a second on a thread of their own (the PKI writes files when it retires a CA). */
    private final java.util.concurrent.ScheduledExecutorService rotationTimer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            GrpcServers.threads("meshhub-ca-rotation"));

    @Activate
    public NodeServer(@Reference NodeSessions sessions, @Reference Dispatcher dispatcher, @Reference FileSyncService sync,
                      TransportConfig config, Map<String, Object> properties) throws IOException {
        TransportConfigCheck.requireUsable(properties);
        this.sessions = sessions;
        this.dispatcher = dispatcher;
        this.sync = sync;
        this.handshakeTimeout = Duration.ofMillis(config.handshakeTimeoutMs());
        this.maxUnauthenticatedConnections = config.maxUnauthenticatedConnections();
        this.rateLimiter = new EnrollmentRateLimiter(clock, config.enrollmentFailuresPerMinute());
        this.calls = new ThreadPoolExecutor(config.grpcThreads(), config.grpcThreads(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), GrpcServers.threads("meshhub-grpc-node"));
        this.loops = EventLoops.create("meshhub-node");
        try {
            listener = listen(Shape.of(config));
        } catch (IOException | RuntimeException e) {
            calls.shutdownNow();
            loops.close();
            throw e;
        }
        health.setStatus("", ServingStatus.SERVING);
        LOG.info("nodes connect on {}:{} ({})", config.bindAddress(), listener.port(), security(listener.shape()));
        dev.meshhub.transport.impl.trust.CaRotationFollower rotation = new dev.meshhub.transport.impl.trust.CaRotationFollower(() -> pki,
                () -> enrollmentStore, new dev.meshhub.transport.impl.trust.CaRotationFollower.Fleet() {
                    @Override
                    public java.util.Collection<dev.meshhub.transport.impl.session.NodeSessionHandle> liveSessions() {
                        return sessions.liveSessions();
                    }

                    @Override
                    public void nodesOnNewCa(long count) {
                        sessions.nodesOnNewCa(count);
                    }
                }, clock);
        rotationTimer.scheduleWithFixedDelay(() -> {
            try {
                rotation.tick();
            } catch (RuntimeException e) {
                LOG.warn("CA rotation step failed", e);
            }
            reportRefusedConnections();
        }, 1, 1, TimeUnit.SECONDS);
    }

    /** At most once a minute, off the event loops: how many connections the cap closed since the last report. */
    private void reportRefusedConnections() {
        long refused = gate.refused();
        long now = System.nanoTime();
        if (refused > refusalsReported && now - refusalsReportedAtNanos >= TimeUnit.MINUTES.toNanos(1)) {
            LOG.warn("closed {} connection(s) on the node port as they were accepted: {} connections had not authenticated"
                    + " yet (maxUnauthenticatedConnections = {} in etc/{}.cfg); nodes with certificates retry with backoff",
                    refused - refusalsReported, gate.unauthenticated(), gate.cap(), TransportConfig.PID);
            refusalsReported = refused;
            refusalsReportedAtNanos = now;
        }
    }

    private static String security(Shape shape) {
        return shape.plaintext() ? "PLAINTEXT" : "TLS " + String.join(", ", shape.tlsProtocols());
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindEnrollmentStore")
    void bindEnrollmentStore(EnrollmentStore store) {
        enrollmentStore = store;
    }

    void unbindEnrollmentStore(EnrollmentStore store) {
        if (enrollmentStore == store) {
            enrollmentStore = null;
        }
    }

    /**
     * The hub's PKI, read at every TLS handshake. Dynamic: a PKI bundle update or a broken CA
     * directory refuses new connections for the while, and never touches the open ones.
     */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindPki")
    void bindPki(HubPki hubPki) {
        pki = hubPki;
    }

    void unbindPki(HubPki hubPki) {
        if (pki == hubPki) {
            pki = null;
        }
    }

    @Modified
    synchronized void modified(TransportConfig config, Map<String, Object> properties) {
        if (!TransportConfigCheck.usable(properties)) {
            return;
        }
        Duration nextTimeout = Duration.ofMillis(config.handshakeTimeoutMs());
        if (!nextTimeout.equals(handshakeTimeout)) {
            LOG.info("handshakes now end after handshakeTimeoutMs {} (was {})", nextTimeout.toMillis(), handshakeTimeout.toMillis());
        }
        handshakeTimeout = nextTimeout;
        maxUnauthenticatedConnections = config.maxUnauthenticatedConnections();
        rateLimiter.limit(config.enrollmentFailuresPerMinute());
        if (GrpcServers.resize(calls, config.grpcThreads())) {
            LOG.info("{} gRPC thread(s) now run node calls", config.grpcThreads());
        }
        Shape next = Shape.of(config);
        Listener current = listener;
        if (current == null) {
            listener = listenOrRestore(next, next);
            return;
        }
        if (next.equals(current.shape())) {
            return;
        }
        if (next.sameAddress(current.shape())) {
            reshape(current, next);
        } else {
            move(current, next);
        }
    }

    /**
     * New connection settings on the same address: the old listener stops accepting (its connections
     * run on: no node is dropped), and the new one takes the port. Between the two, a connection
     * attempt is refused for a moment and the node's retry gets through.
     */
    private void reshape(Listener current, Shape next) {
        current.server().shutdown();
        draining.removeIf(Server::isTerminated);
        draining.add(current.server());
        // Port 0 means "any": keep the port nodes know.
        Shape pinned = next.port() == 0 ? next.withPort(current.port()) : next;
        listener = listenOrRestore(pinned, current.shape().port() == 0 ? current.shape().withPort(current.port()) : current.shape());
        LOG.info("node port {}:{} now accepts connections with the new settings; the {} connected node(s) keep"
                + " their connections", pinned.bindAddress(), listener == null ? "-" : listener.port(), sessions.size());
    }

    /**
     * A new port or address: listen there first (on failure nothing changes), then tell the nodes on
     * the old listener it moved and close it. When the new address overlaps the old one's port (say
     * 0.0.0.0 to 127.0.0.1 on one port), the old one goes first and comes back if the new one fails.
     */
    private void move(Listener current, Shape next) {
        Listener replacement;
        try {
            replacement = listen(next);
        } catch (IOException | RuntimeException e) {
            if (next.port() != current.port()) {
                LOG.error("node port stays on {}:{}: {}", current.shape().bindAddress(), current.port(), e.getMessage());
                return;
            }
            retire(current, "the hub's node listener moves to " + next.bindAddress() + ":" + next.port() + "; reconnect");
            listener = listenOrRestore(next, current.shape());
            return;
        }
        retire(current, "the hub's node port moved to " + next.bindAddress() + ":" + replacement.port() + "; reconnect");
        listener = replacement;
        LOG.info("nodes connect on {}:{} ({})", next.bindAddress(), replacement.port(), security(next));
    }

    /** Listens with {@code next}, else again with {@code previous}; null (logged) when neither works. */
    private Listener listenOrRestore(Shape next, Shape previous) {
        try {
            return listen(next);
        } catch (IOException | RuntimeException e) {
            LOG.error("node port settings not applied ({}); back to the previous ones", e.getMessage());
        }
        try {
            return listen(previous);
        } catch (IOException | RuntimeException again) {
            LOG.error("the node port is down: {}; fix etc/{}.cfg", again.getMessage(), TransportConfig.PID);
            return null;
        }
    }

    private void retire(Listener old, String detail) {
        int port = old.port();
        int closed = old.service().closeAll(SessionClosing.Reason.HUB_STOPPING, detail);
        GrpcServers.stop(old.server(), DRAIN_STOP_MILLIS);
        LOG.info("closed {} node session(s) on the old listener {}:{}: {}", closed, old.shape().bindAddress(), port, detail);
    }

    @Deactivate
    synchronized void deactivate() {
        health.enterTerminalState();
        sessions.closeAll("hub is stopping; reconnect with backoff");
        if (listener != null) {
            GrpcServers.stop(listener.server(), DRAIN_STOP_MILLIS);
            listener = null;
        }
        for (Server old : draining) {
            GrpcServers.stop(old, DRAIN_STOP_MILLIS);
        }
        draining.clear();
        rotationTimer.shutdownNow();
        loops.close();
        calls.shutdownNow();
        try {
            calls.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("node port closed");
    }

    private Listener listen(Shape shape) throws IOException {
        NodeServiceImpl service = new NodeServiceImpl(() -> enrollmentStore, () -> pki, sessions, dispatcher, sync, rateLimiter, clock,
                () -> handshakeTimeout);
        NettyServerBuilder builder = loops.apply(NettyServerBuilder.forAddress(new InetSocketAddress(shape.bindAddress(), shape.port())), gate)
                .executor(calls)
                .maxInboundMessageSize(shape.maxInboundMessageBytes())
                .maxInboundMetadataSize(shape.maxInboundMetadataBytes())
                .maxConcurrentCallsPerConnection(shape.maxConcurrentCallsPerConnection())
                .maxRstFramesPerWindow(shape.maxRstFramesPerWindow(), shape.rstWindowSeconds())
                .keepAliveTime(shape.keepAliveTimeSeconds(), TimeUnit.SECONDS)
                .keepAliveTimeout(shape.keepAliveTimeoutSeconds(), TimeUnit.SECONDS)
                .permitKeepAliveTime(shape.permitKeepAliveTimeSeconds(), TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .handshakeTimeout(shape.connectionHandshakeTimeoutSeconds(), TimeUnit.SECONDS)
                .maxConnectionIdle(shape.idleConnectionTimeoutSeconds(), TimeUnit.SECONDS)
                .addService(ServerInterceptors.intercept(StrictRequestParsing.apply(service.bindService()),
                        new NodeAuthInterceptor(() -> enrollmentStore, () -> pki, clock)))
                .addService(health.getHealthService());
        if (shape.plaintext()) {
            LOG.warn("the node port {}:{} is PLAINTEXT (plaintext = true in etc/{}.cfg): invite tokens, node credentials,"
                    + " commands and files cross it unencrypted; use it only for local tests", shape.bindAddress(), shape.port(),
                    TransportConfig.PID);
        } else {
            builder.sslContext(NodeTls.serverContext(() -> pki, shape.tlsProtocols()));
        }
        Server server = GrpcServers.start("node", builder, shape.bindAddress(), shape.port(),
                "etc/" + TransportConfig.PID + ".cfg (port, bindAddress) or MESHHUB_TRANSPORT_PORT");
        return new Listener(server, service, shape);
    }

    /** The node port listened on now (differs from the configuration when that is 0); -1 when it is down. */
    synchronized int nodePort() {
        return listener == null ? -1 : listener.port();
    }

    /** Its health check ({@code hc.name = transport}): OK while the node port accepts connections. */
    @Override
    public Result execute() {
        Listener current;
        synchronized (this) {
            current = listener;
        }
        if (current == null || current.server().isShutdown()) {
            return new Result(Result.Status.CRITICAL, "the node port is not listening (the transport is stopping, or its last"
                    + " configuration could not bind: see the hub's log)");
        }
        return new Result(Result.Status.OK, "nodes connect on " + current.shape().bindAddress() + ":" + current.port() + " ("
                + security(current.shape()) + "), " + sessions.connected().size() + " connected");
    }
}
