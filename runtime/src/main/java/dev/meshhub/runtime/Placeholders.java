package dev.meshhub.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code ${name}} placeholders in property values, as in the launcher's {@code etc/*.properties}.
 *
 * <p>A placeholder refers to another key of the same file first, then to whatever the outside lookup
 * knows (the launcher's: system properties such as {@code meshhub.home}, and {@code ${env:NAME}} for
 * environment variables). A placeholder nobody knows is left as written, so a typo shows in the value
 * instead of silently becoming empty. Nested placeholders ({@code ${a.${b}}}) are not supported.
 */
final class Placeholders {

    private static final String ENV_PREFIX = "env:";

    private Placeholders() {
    }

    /** The launcher's outside lookup: {@code env:NAME} from the environment, anything else from system properties. */
    static Function<String, String> systemLookup() {
        return name -> name.startsWith(ENV_PREFIX)
                ? System.getenv(name.substring(ENV_PREFIX.length()))
                : System.getProperty(name);
    }

    /**
     * Every value of {@code properties} with its placeholders replaced.
     *
     * @throws IllegalArgumentException if keys refer to each other in a cycle
     */
    static Map<String, String> substitute(Map<String, String> properties, Function<String, String> outside) {
        Map<String, String> resolved = new LinkedHashMap<>();
        for (String key : properties.keySet()) {
            resolve(key, properties, outside, resolved, new LinkedHashSet<>());
        }
        return resolved;
    }

    /** {@code value} with each {@code ${name}} that {@code lookup} knows replaced; unknown ones stay. */
    static String substitute(String value, Function<String, String> lookup) {
        StringBuilder out = new StringBuilder(value.length());
        int from = 0;
        while (true) {
            int start = value.indexOf("${", from);
            int end = start < 0 ? -1 : value.indexOf('}', start + 2);
            if (end < 0) {
                break;
            }
            String replacement = lookup.apply(value.substring(start + 2, end));
            out.append(value, from, start).append(replacement != null ? replacement : value.substring(start, end + 1));
            from = end + 1;
        }
        return out.append(value, from, value.length()).toString();
    }

    private static String resolve(String key, Map<String, String> properties, Function<String, String> outside,
                                  Map<String, String> resolved, Set<String> inProgress) {
        String done = resolved.get(key);
        if (done != null) {
            return done;
        }
        if (!inProgress.add(key)) {
            List<String> cycle = new ArrayList<>(inProgress);
            cycle = cycle.subList(cycle.indexOf(key), cycle.size());
            throw new IllegalArgumentException("properties refer to each other in a cycle: "
                    + String.join(" -> ", cycle) + " -> " + key);
        }
        String value = substitute(properties.get(key), name -> properties.containsKey(name)
                ? resolve(name, properties, outside, resolved, inProgress)
                : outside.apply(name));
        inProgress.remove(key);
        resolved.put(key, value);
        return value;
    }
}
