package dev.meshhub.config.env.impl;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Maps environment variables onto configuration keys of meshhub's PIDs.
 *
 * <p>For PID {@code dev.meshhub.transport}, the variable {@code MESHHUB_TRANSPORT_HEARTBEAT_INTERVAL_MS}
 * sets the key {@code heartbeatIntervalMs}: the prefix is {@code MESHHUB_} plus the PID's part after
 * {@code dev.meshhub.} in upper case (dots and dashes become underscores); the rest of the name, in
 * upper snake case, is the camel-case key. A double underscore stands for a dot, for dotted keys such
 * as the schedule of a management task: {@code MESHHUB_MONITOR_MESHHUB__MANAGEMENT__PERIOD} sets
 * {@code meshhub.management.period} of PID {@code dev.meshhub.monitor}. meshctl's own variables
 * ({@link #NOT_CONFIGURATION}) are skipped.
 */
final class EnvironmentOverrides {

    static final String PID_PREFIX = "dev.meshhub.";
    static final String ENV_PREFIX = "MESHHUB_";

    /**
     * Variables meshctl reads (where the admin API is, and the admin token itself), which would
     * otherwise look like keys of {@code dev.meshhub.admin}: never configuration, so a token exported
     * for meshctl never lands in the hub's configuration.
     */
    static final Set<String> NOT_CONFIGURATION = Set.of("MESHHUB_ADMIN_ADDRESS", "MESHHUB_ADMIN_TOKEN", "MESHHUB_ADMIN_CA_PIN",
            "MESHHUB_ADMIN_CA_FILE");

    private final Map<String, String> environment;

    EnvironmentOverrides(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    /** The environment variable prefix for a PID, or {@code null} when the PID is not meshhub's. */
    static String prefixFor(String pid) {
        if (pid == null || !pid.startsWith(PID_PREFIX) || pid.length() == PID_PREFIX.length()) {
            return null;
        }
        String section = pid.substring(PID_PREFIX.length()).toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
        return ENV_PREFIX + section + "_";
    }

    /** {@code HEARTBEAT_INTERVAL_MS} to {@code heartbeatIntervalMs}; {@code A__B_C} to {@code a.bC}. */
    static String keyFor(String upperSnake) {
        StringBuilder key = new StringBuilder(upperSnake.length());
        for (String segment : upperSnake.split("__", -1)) {
            String part = camelCase(segment);
            if (part.isEmpty()) {
                return "";
            }
            key.append(key.length() > 0 ? "." : "").append(part);
        }
        return key.toString();
    }

    private static String camelCase(String upperSnake) {
        StringBuilder key = new StringBuilder(upperSnake.length());
        boolean upperNext = false;
        for (char c : upperSnake.toLowerCase(Locale.ROOT).toCharArray()) {
            if (c == '_') {
                upperNext = key.length() > 0;
            } else {
                key.append(upperNext ? Character.toUpperCase(c) : c);
                upperNext = false;
            }
        }
        return key.toString();
    }

    /** The configuration key to environment variable overrides for one PID, sorted by key. */
    Map<String, Override> forPid(String pid) {
        String prefix = prefixFor(pid);
        if (prefix == null) {
            return Collections.emptyMap();
        }
        Map<String, Override> overrides = new TreeMap<>();
        environment.forEach((name, value) -> {
            if (name.startsWith(prefix) && name.length() > prefix.length() && !NOT_CONFIGURATION.contains(name)) {
                String key = keyFor(name.substring(prefix.length()));
                if (!key.isEmpty()) {
                    overrides.put(key, new Override(name, value));
                }
            }
        });
        return overrides;
    }

    /** One override: which variable, which value. */
    record Override(String variable, String value) {
    }
}
