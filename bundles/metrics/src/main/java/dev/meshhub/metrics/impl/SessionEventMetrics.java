package dev.meshhub.metrics.impl;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;

import dev.meshhub.api.node.NodeEvents;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

/**
 * Node sessions opened and closed, by cause, counted from the transport's EventAdmin events since this
 * bundle started (so the transport needs no metrics library), and served at /metrics as a
 * {@link MultiCollector} service like any other bundle's. The cause label is the event's bounded
 * {@link NodeEvents#CAUSE_KIND}; anything else counts as {@code other}.
 */
@Component(service = {EventHandler.class, MultiCollector.class},
        property = EventConstants.EVENT_TOPIC + "=dev/meshhub/node/*")
public final class SessionEventMetrics implements EventHandler, MultiCollector {

    /** The causes {@link NodeEvents#CAUSE_KIND} names, each served from the start (at 0). */
    static final List<String> CAUSES = List.of("node_ended", "replaced", "revoked", "hub_stopping", "heartbeat_missed",
            "already_connected", "certificate_expired", "other");

    private final LongAdder opened = new LongAdder();
    private final LongAdder revoked = new LongAdder();
    private final Map<String, LongAdder> closed = new ConcurrentHashMap<>();

    public SessionEventMetrics() {
        for (String cause : CAUSES) {
            closed.put(cause, new LongAdder());
        }
    }

    @Override
    public void handleEvent(Event event) {
        switch (event.getTopic()) {
            case NodeEvents.TOPIC_CONNECTED -> opened.increment();
            case NodeEvents.TOPIC_REVOKED -> revoked.increment();
            case NodeEvents.TOPIC_DISCONNECTED -> {
                Object kind = event.getProperty(NodeEvents.CAUSE_KIND);
                closed.get(kind instanceof String known && closed.containsKey(known) ? known : "other").increment();
            }
            default -> {
                // takeovers: counted by the transport itself (meshhub_session_takeovers_total)
            }
        }
    }

    @Override
    public MetricSnapshots collect() {
        Families families = new Families();
        families.counter("meshhub_sessions_opened", "Node sessions registered (a Hello accepted) since the metrics bundle started",
                opened.sum());
        Families.Counter byCause = families.counter("meshhub_sessions_closed",
                "Node sessions ended since the metrics bundle started, by cause (node_ended: the node or its link ended it)");
        for (String cause : CAUSES) {
            byCause.point(closed.get(cause).sum(), "cause", cause);
        }
        byCause.done();
        families.counter("meshhub_nodes_revoked", "Nodes revoked through the admin API or the console since the metrics bundle started",
                revoked.sum());
        return new MetricSnapshots(families.snapshots());
    }
}
