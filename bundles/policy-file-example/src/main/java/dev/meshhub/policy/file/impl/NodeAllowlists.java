package dev.meshhub.policy.file.impl;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The allowlists of an allowlist file: one per node (by id or name), and optionally one for every
 * other node ({@code *}).
 *
 * <pre>
 * # comments start with # or !
 * n-4f2a  = echo, uptime
 * web1    = echo, ls, /opt/app/bin/status
 * locked  =
 * *       = echo
 * </pre>
 *
 * Entries are program names (matched against argv[0]'s file name) or absolute paths. An empty
 * value allows nothing. Without a {@code *} line, a node the file does not name may run nothing.
 *
 * @param byNode   allowlists by node id or name
 * @param everyone the {@code *} allowlist, or null when there is none
 */
record NodeAllowlists(Map<String, List<String>> byNode, List<String> everyone) {

    /** What a file that could never be read allows: nothing, to anyone. */
    static final NodeAllowlists NOTHING = new NodeAllowlists(Map.of(), null);

    static final String EVERYONE = "*";

    NodeAllowlists {
        byNode = Map.copyOf(byNode);
        everyone = everyone == null ? null : List.copyOf(everyone);
    }

    /** The allowlist of a node: its own (by id, then by name), else the {@code *} one, else nothing. */
    List<String> forNode(String nodeId, String nodeName) {
        List<String> found = nodeId == null ? null : byNode.get(nodeId);
        if (found == null && nodeName != null) {
            found = byNode.get(nodeName);
        }
        if (found == null) {
            found = everyone;
        }
        return found == null ? List.of() : found;
    }

    /**
     * Parses a file's lines.
     *
     * @throws IllegalArgumentException naming the first line that is not understood
     */
    static NodeAllowlists parse(List<String> lines) {
        Map<String, List<String>> byNode = new LinkedHashMap<>();
        Map<String, Integer> firstLine = new HashMap<>();
        List<String> everyone = null;
        for (int i = 0; i < lines.size(); i++) {
            int number = i + 1;
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith("!")) {
                continue;
            }
            int equals = line.indexOf('=');
            if (equals < 0) {
                throw new IllegalArgumentException("line " + number + ": expected '<node id or name> = exe1, exe2'");
            }
            String node = line.substring(0, equals).strip();
            if (node.isEmpty() || !printableWithoutSpaces(node)) {
                throw new IllegalArgumentException("line " + number + ": '" + shorten(node)
                        + "' is not a node id or name (nor '*')");
            }
            Integer earlier = firstLine.putIfAbsent(node, number);
            if (earlier != null) {
                throw new IllegalArgumentException("line " + number + ": '" + node + "' is listed twice (first on line "
                        + earlier + ")");
            }
            List<String> entries = entries(number, line.substring(equals + 1));
            if (EVERYONE.equals(node)) {
                everyone = entries;
            } else {
                byNode.put(node, entries);
            }
        }
        return new NodeAllowlists(byNode, everyone);
    }

    private static List<String> entries(int number, String value) {
        Set<String> entries = new LinkedHashSet<>();
        for (String part : value.split(",")) {
            String entry = part.strip();
            if (entry.isEmpty()) {
                continue;
            }
            if (!printableWithoutSpaces(entry)) {
                throw new IllegalArgumentException("line " + number + ": '" + shorten(entry)
                        + "' holds a space or a control character; separate entries with commas");
            }
            boolean path = entry.indexOf('/') >= 0;
            if (path && (!entry.startsWith("/") || entry.endsWith("/") || !Path.of(entry).normalize().toString().equals(entry))
                    || !path && (entry.startsWith("-") || entry.equals(".") || entry.equals(".."))) {
                throw new IllegalArgumentException("line " + number + ": '" + entry
                        + "' is neither a program name nor a normalised absolute path");
            }
            entries.add(entry);
        }
        return List.copyOf(entries);
    }

    private static boolean printableWithoutSpaces(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                return false;
            }
        }
        return true;
    }

    private static String shorten(String value) {
        String printable = value.replaceAll("\\p{Cntrl}", "?");
        return printable.length() <= 40 ? printable : printable.substring(0, 40) + "...";
    }
}
