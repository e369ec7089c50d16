package dev.meshhub.policy.impl;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code allowedEnvironment} setting: variable names (or prefixes ending in {@code *}) STRICT
 * tasks may set besides the built-in locale and terminal ones. Variables that change what runs or
 * loads stay refused by the rules whatever is listed (PolicyRules in the wire contract).
 */
final class EnvironmentAllowlist {

    private static final Pattern ENTRY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}\\*?");

    private EnvironmentAllowlist() {
    }

    /**
     * Reads the entries (also comma-separated within one value).
     *
     * @throws IllegalArgumentException naming the first entry that is not a variable name or prefix
     */
    static List<String> parse(String key, String[] values) {
        return Allowlist.parse(values, entry -> {
            if (!ENTRY.matcher(entry).matches()) {
                throw new IllegalArgumentException(key + ": '" + (entry.length() > 60 ? entry.substring(0, 60) + "..." : entry)
                        + "' is neither a variable name nor a prefix ending in * (like APP_*)");
            }
            if (entry.equals("*")) {
                throw new IllegalArgumentException(key + ": '*' would let STRICT tasks set any variable; list names or prefixes");
            }
            return entry;
        });
    }
}
