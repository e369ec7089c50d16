package dev.meshhub.transport.impl.rpc;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.transport.impl.dispatch.Dispatcher;
import dev.meshhub.transport.impl.session.NodeSessionHandle;
import dev.meshhub.transport.impl.session.NodeSessions;
import dev.meshhub.transport.impl.sync.FileSyncService;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * What a node sends on its TaskStream: a Hello first (the session is listed then), then heartbeats,
 * task reports and sync failures, each handed to its owner from memory. Anything before the Hello
 * closes the stream with INVALID_ARGUMENT; a payload this hub does not know (a newer node's) is
 * ignored.
 */
final class TaskStreamObserver implements StreamObserver<NodeMessage> {

    private static final Logger LOG = LoggerFactory.getLogger(TaskStreamObserver.class);
    private static final String HELLO_FIRST = "the first message on TaskStream must be a Hello";

    private final NodeSessionHandle session;
    private final NodeSessions sessions;
    private final Dispatcher dispatcher;
    private final FileSyncService sync;
    private boolean helloReceived;

    TaskStreamObserver(NodeSessionHandle session, NodeSessions sessions, Dispatcher dispatcher, FileSyncService sync) {
        this.session = session;
        this.sessions = sessions;
        this.dispatcher = dispatcher;
        this.sync = sync;
    }

    @Override
    public void onNext(NodeMessage message) {
        session.heard();
        if (message.getPayloadCase() == NodeMessage.PayloadCase.HELLO) {
            if (!helloReceived) {
                helloReceived = true;
                session.confinement(message.getHello().getConfinement());
                session.capabilities(message.getHello().getCapabilitiesList());
                sessions.register(session);
            }
            return;
        }
        if (!helloReceived) {
            protocolError(message.getPayloadCase() == NodeMessage.PayloadCase.HEARTBEAT ? HELLO_FIRST + ", got a Heartbeat" : HELLO_FIRST);
            return;
        }
        switch (message.getPayloadCase()) {
            case HEARTBEAT -> {
                // heard() above is all a heartbeat does
            }
            case TASK_STARTED -> dispatcher.started(session, message.getTaskStarted());
            case TASK_OUTPUT -> dispatcher.output(session, message.getTaskOutput());
            case TASK_FINISHED -> dispatcher.finished(session, message.getTaskFinished());
            case SYNC_FAILED -> sync.syncFailed(session, message.getSyncFailed());
            // A newer node may send payloads this hub does not know yet; ignore them.
            default -> LOG.debug("node {} sent an unknown payload; ignored", session.nodeId());
        }
    }

    private void protocolError(String detail) {
        LOG.warn("closing stream of node {} from {}: {}", session.nodeId(), session.address(), detail);
        sessions.close(session, SessionClosing.Reason.REASON_UNSPECIFIED, Status.INVALID_ARGUMENT.withDescription(detail));
    }

    @Override
    public void onError(Throwable t) {
        sessions.streamEnded(session, "stream failed: " + Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
        sessions.streamEnded(session, "the node closed its stream");
        session.completeStream();
    }
}
