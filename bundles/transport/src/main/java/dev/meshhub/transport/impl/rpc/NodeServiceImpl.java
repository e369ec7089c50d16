package dev.meshhub.transport.impl.rpc;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.proto.v1.DownloadChunk;
import dev.meshhub.proto.v1.DownloadRequest;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import dev.meshhub.transport.impl.dispatch.Dispatcher;
import dev.meshhub.transport.impl.session.NodeSessionHandle;
import dev.meshhub.transport.impl.session.NodeSessions;
import dev.meshhub.transport.impl.sync.FileSyncService;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * The node-facing service of one listener. Handlers never block: enrollment's database work runs on
 * the enrollment store's threads and answers from there ({@link Handshake}); reconnects and every
 * stream message are handled from memory ({@link TaskStreamObserver}); file data goes to file sync's
 * IO pool. It remembers the streams it opened, so a listener that moves can close exactly its own.
 */
public final class NodeServiceImpl extends NodeServiceGrpc.NodeServiceImplBase {

    private final NodeSessions sessions;
    private final Dispatcher dispatcher;
    private final FileSyncService sync;
    private final Clock clock;
    private final Handshake handshake;
    private final Set<NodeSessionHandle> opened = ConcurrentHashMap.newKeySet();

    public NodeServiceImpl(Supplier<EnrollmentStore> store, NodeSessions sessions, Dispatcher dispatcher, FileSyncService sync,
                           EnrollmentRateLimiter rateLimiter, Clock clock, Supplier<Duration> handshakeTimeout) {
        this(store, () -> null, sessions, dispatcher, sync, rateLimiter, clock, handshakeTimeout);
    }

    public NodeServiceImpl(Supplier<EnrollmentStore> store, Supplier<dev.meshhub.api.pki.HubPki> pki, NodeSessions sessions,
                           Dispatcher dispatcher, FileSyncService sync, EnrollmentRateLimiter rateLimiter, Clock clock,
                           Supplier<Duration> handshakeTimeout) {
        this.sessions = sessions;
        this.dispatcher = dispatcher;
        this.sync = sync;
        this.clock = clock;
        this.handshake = new Handshake(store, new NodeCertificateIssuer(pki), sessions, dispatcher, rateLimiter, clock, handshakeTimeout);
    }

    @Override
    public void syncConfiguration(SyncConfigurationRequest request, StreamObserver<SyncConfigurationResponse> responseObserver) {
        handshake.answer(request, responseObserver);
    }

    @Override
    public StreamObserver<UploadRequest> upload(StreamObserver<UploadResponse> responseObserver) {
        return sync.upload(NodeAuthInterceptor.NODE.get(), NodeAuthInterceptor.PEER.get(), responseObserver);
    }

    @Override
    public void download(DownloadRequest request, StreamObserver<DownloadChunk> responseObserver) {
        sync.download(NodeAuthInterceptor.NODE.get(), request, responseObserver);
    }

    @Override
    public StreamObserver<NodeMessage> taskStream(StreamObserver<HubMessage> responseObserver) {
        EnrolledNode node = NodeAuthInterceptor.NODE.get();
        ServerCallStreamObserver<HubMessage> outbound = (ServerCallStreamObserver<HubMessage>) responseObserver;
        NodeSessionHandle session = new NodeSessionHandle(node.nodeId(), node.name(), NodeAuthInterceptor.PEER.get(), outbound, clock);
        session.certificate(NodeAuthInterceptor.CERTIFICATE.get());
        opened.add(session);
        outbound.setOnCancelHandler(() -> ended(session, "stream cancelled: the node went away or its connection dropped"));
        // Also when the call was closed below the handler (a request that did not parse): no session outlives its call.
        outbound.setOnCloseHandler(() -> ended(session, "stream closed"));
        sessions.opened(session);
        return new TaskStreamObserver(session, sessions, dispatcher, sync);
    }

    private void ended(NodeSessionHandle session, String cause) {
        opened.remove(session);
        sessions.streamEnded(session, cause);
    }

    /** Ends every stream this service opened (its listener moves), telling each node why. */
    public int closeAll(SessionClosing.Reason reason, String detail) {
        List<NodeSessionHandle> open = List.copyOf(opened);
        for (NodeSessionHandle session : open) {
            sessions.close(session, reason, Status.UNAVAILABLE.withDescription(detail));
            opened.remove(session);
        }
        return open.size();
    }
}
