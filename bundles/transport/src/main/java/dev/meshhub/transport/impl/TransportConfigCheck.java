package dev.meshhub.transport.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.server.config.ConfigCheck;
import dev.meshhub.server.support.Peers;

/**
 * The check every transport component runs on the configuration it is handed. The four components
 * share one PID; each must refuse exactly when the others do, so no component ever applies half of a
 * configuration another refused. The check is the metatype's bounds plus the rules across keys, and
 * each distinct configuration is logged once (not once per component).
 */
public final class TransportConfigCheck {

    private static final Logger LOG = LoggerFactory.getLogger(TransportConfigCheck.class);

    private static final ConfigCheck CHECK = ConfigCheck.forPid(TransportConfig.PID, TransportConfig.class).withMovedKeys(Map.of(
            "adminPort", "moved to etc/dev.meshhub.admin.cfg as port",
            "adminBindAddress", "moved to etc/dev.meshhub.admin.cfg as bindAddress",
            "adminTokenFile", "moved to etc/dev.meshhub.admin.cfg as tokenFile"));

    /** The last configuration logged, so four components log it once. */
    private static final AtomicReference<Map<String, String>> LAST_LOGGED = new AtomicReference<>();

    private TransportConfigCheck() {
    }

    /** What is wrong with a configuration; empty when it can be applied. Unknown keys are warned about, not refused. */
    public static List<String> problems(Map<String, ?> properties) {
        ConfigCheck.Result result = CHECK.check(properties);
        List<String> problems = new ArrayList<>(result.problems());
        if (problems.isEmpty()) {
            long interval = number(properties, "heartbeatIntervalMs", TransportConfig.DEFAULT_HEARTBEAT_INTERVAL_MS);
            long timeout = number(properties, "heartbeatTimeoutMs", TransportConfig.DEFAULT_HEARTBEAT_TIMEOUT_MS);
            if (timeout <= interval) {
                problems.add("heartbeatTimeoutMs (" + timeout + ") must exceed heartbeatIntervalMs (" + interval + ")");
            }
            problems.addAll(tlsProblems(properties));
        }
        if (firstTime(properties) && result.unknownKeysWarning() != null) {
            LOG.warn(result.unknownKeysWarning());
        }
        return problems;
    }

    /**
     * For activation: throws naming every bad key, so the component does not start half configured.
     *
     * @throws IllegalArgumentException when the configuration cannot be applied
     */
    public static void requireUsable(Map<String, ?> properties) {
        List<String> problems = problems(properties);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("configuration " + TransportConfig.PID + " refused, the transport does not start: "
                    + String.join("; ", problems));
        }
    }

    /**
     * For a change while running: whether it can be applied. When not, says so once (ERROR, naming the
     * keys) and the caller keeps its settings.
     */
    public static boolean usable(Map<String, ?> properties) {
        List<String> problems = problems(properties);
        if (problems.isEmpty()) {
            return true;
        }
        if (firstRefusal(properties)) {
            LOG.error("configuration {} refused, the transport keeps its settings: {}", TransportConfig.PID, String.join("; ", problems));
        }
        return false;
    }

    private static final AtomicReference<Map<String, String>> LAST_REFUSED = new AtomicReference<>();

    private static boolean firstTime(Map<String, ?> properties) {
        return changed(LAST_LOGGED, properties);
    }

    private static boolean firstRefusal(Map<String, ?> properties) {
        return changed(LAST_REFUSED, properties);
    }

    private static boolean changed(AtomicReference<Map<String, String>> last, Map<String, ?> properties) {
        Map<String, String> values = new TreeMap<>();
        properties.forEach((key, value) -> {
            if (!ConfigCheck.isFrameworkKey(key)) {
                values.put(key, String.valueOf(value));
            }
        });
        return !values.equals(last.getAndSet(values));
    }

    /** TLS protocols the node port may be configured with. */
    static final List<String> KNOWN_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** The protocols of a configuration ({@code tlsProtocols}, comma-separated), in the order given. */
    static List<String> protocols(Object value) {
        List<String> protocols = new ArrayList<>();
        for (String protocol : String.valueOf(value == null ? "TLSv1.3" : value).split(",")) {
            if (!protocol.isBlank()) {
                protocols.add(protocol.strip());
            }
        }
        return protocols;
    }

    private static List<String> tlsProblems(Map<String, ?> properties) {
        List<String> problems = new ArrayList<>();
        List<String> protocols = protocols(properties.get("tlsProtocols"));
        if (protocols.isEmpty() || !KNOWN_PROTOCOLS.containsAll(protocols)) {
            problems.add("tlsProtocols = " + properties.get("tlsProtocols") + " is not usable: give TLSv1.3, or TLSv1.3, TLSv1.2");
        }
        Object plaintext = properties.get("plaintext");
        if (plaintext != null && Boolean.parseBoolean(plaintext.toString().strip())) {
            Object configured = properties.get("bindAddress");
            String bind = configured == null ? "0.0.0.0" : configured.toString().strip();
            if (!Peers.isLoopback(bind)) {
                problems.add("plaintext = true is refused on bindAddress " + bind + ": plaintext node links carry invite tokens,"
                        + " commands and files in the clear, so they are allowed only on a loopback address (127.0.0.1, ::1)."
                        + " Remove plaintext (TLS is the default), or bind the node port to loopback");
            }
        }
        return problems;
    }

    private static long number(Map<String, ?> properties, String key, long fallback) {
        Object value = properties.get(key);
        return value == null ? fallback : Long.parseLong(value.toString().trim());
    }
}
