package dev.meshhub.policy.impl;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads and checks a configured list of executables a STRICT node may run.
 *
 * <p>Entries are program names (matched against argv[0]'s file name) or absolute paths (matched
 * exactly), as {@code PolicyRules} applies them. A {@code .cfg} file delivers a list as one string,
 * so every value is also split on commas: {@code allowedExecutables = echo, ls, /opt/tool/bin/report}.
 */
final class Allowlist {

    /**
     * Programs whose purpose is to run other programs (shells, interpreters, launchers). Allowing one
     * lets a STRICT node run almost anything, so a configuration naming one is logged at WARN. It is
     * not refused: an admin may know better, and the allowlist is theirs.
     */
    private static final Set<String> RUNS_OTHER_PROGRAMS = Set.of(
            "sh", "bash", "dash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "ash", "busybox",
            "env", "xargs", "sudo", "su", "doas", "runuser", "pkexec", "nice", "ionice", "nohup", "timeout",
            "stdbuf", "setsid", "chroot", "nsenter", "unshare", "chrt", "taskset", "flock", "watch", "script",
            "time", "strace", "ltrace", "gdb", "expect", "ssh", "python", "python2", "python3", "perl",
            "ruby", "node", "php", "lua", "awk", "gawk", "mawk", "java", "jshell", "make", "find");

    private Allowlist() {
    }

    /**
     * Splits, trims and checks the configured values; keeps the first of duplicates.
     *
     * @param key    the configuration key, for messages
     * @param values as configured (null means none)
     * @return the entries, unmodifiable
     * @throws IllegalArgumentException naming the first entry that is neither a program name nor an
     *                                  absolute path
     */
    static List<String> parse(String key, String[] values) {
        return parse(values, entry -> check(key, entry));
    }

    /**
     * Splits configured values at commas, trims, drops empty entries, checks each with {@code check}
     * (which throws for a bad one) and keeps the first of duplicates: the shape of every list setting.
     */
    static List<String> parse(String[] values, java.util.function.UnaryOperator<String> check) {
        Set<String> entries = new LinkedHashSet<>();
        if (values != null) {
            for (String value : values) {
                if (value == null) {
                    continue;
                }
                for (String part : value.split(",")) {
                    String entry = part.trim();
                    if (!entry.isEmpty()) {
                        entries.add(check.apply(entry));
                    }
                }
            }
        }
        return List.copyOf(entries);
    }

    private static String check(String key, String entry) {
        for (int i = 0; i < entry.length(); i++) {
            char c = entry.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                throw new IllegalArgumentException(key + ": '" + printable(entry)
                        + "' holds whitespace or a control character; list program names or absolute paths, separated by commas");
            }
        }
        if (entry.indexOf('/') >= 0) {
            if (!entry.startsWith("/") || entry.endsWith("/") || !Path.of(entry).normalize().toString().equals(entry)) {
                throw new IllegalArgumentException(key + ": '" + entry
                        + "' is neither a program name nor a normalised absolute path (like /usr/bin/uptime)");
            }
        } else if (entry.startsWith("-") || entry.equals(".") || entry.equals("..")) {
            throw new IllegalArgumentException(key + ": '" + entry + "' is not a program name");
        }
        return entry;
    }

    /** The entries that name a program known to run other programs (see {@link #RUNS_OTHER_PROGRAMS}). */
    static List<String> launchers(List<String> entries) {
        List<String> found = new ArrayList<>();
        for (String entry : entries) {
            String name = entry.substring(entry.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
            if (RUNS_OTHER_PROGRAMS.contains(name) || name.matches("(python|perl|ruby|php|lua)[0-9.]*")) {
                found.add(entry);
            }
        }
        return found;
    }

    private static String printable(String value) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < value.length() && i < 80; i++) {
            char c = value.charAt(i);
            out.append(Character.isISOControl(c) ? '?' : c);
        }
        return out.toString();
    }
}
