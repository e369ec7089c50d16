package dev.meshhub.policy.file.impl;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The allowlists of an allowlist file: one per node, and optionally one for every other node
 * ({@code *}). A node is named by its id ({@code n-} and 12 hex digits, as {@code meshctl nodes}
 * shows it), or by {@code name@id} for readability (both must match, the name ignoring case). A name
 * alone is refused: a node chooses its own name when it enrolls, so a line for {@code web1} would
 * hand its allowlist to whichever node enrolls as {@code web1}.
 *
 * <pre>
 * # comments start with # or !
 * n-4f2a00c0ffee        = echo, uptime
 * web1@n-77aa00c0ffee   = echo, ls, /opt/app/bin/status
 * n-9000000000ab        =
 * *                     = echo
 * </pre>
 *
 * Entries are program names (matched against argv[0]'s file name) or absolute paths. An empty
 * value allows nothing. Without a {@code *} line, a node the file does not name may run nothing.
 *
 * @param byNode   allowlists by node id; a value's {@code name} is the name the line requires, or null
 * @param everyone the {@code *} allowlist, or null when there is none
 */
record NodeAllowlists(Map<String, Entry> byNode, List<String> everyone) {

    /** One node's line: the name it also requires (null: any), and the allowlist. */
    record Entry(String name, List<String> allowed) {
        Entry {
            allowed = List.copyOf(allowed);
        }
    }

    private static final java.util.regex.Pattern NODE_ID = java.util.regex.Pattern.compile("n-[0-9a-f]{12}");

    /** What a file that could never be read allows: nothing, to anyone. */
    static final NodeAllowlists NOTHING = new NodeAllowlists(Map.of(), null);

    static final String EVERYONE = "*";

    NodeAllowlists {
        byNode = Map.copyOf(byNode);
        everyone = everyone == null ? null : List.copyOf(everyone);
    }

    /**
     * The allowlist of a node: its own line (by id; a {@code name@id} line only when the name matches
     * too), else the {@code *} one, else nothing.
     */
    List<String> forNode(String nodeId, String nodeName) {
        Entry own = nodeId == null ? null : byNode.get(nodeId);
        if (own != null && (own.name() == null || own.name().equalsIgnoreCase(nodeName))) {
            return own.allowed();
        }
        if (own != null) {
            return List.of(); // the id's line names another node: the file is out of date, so nothing
        }
        return everyone == null ? List.of() : everyone;
    }

    /**
     * Parses a file's lines.
     *
     * @throws IllegalArgumentException naming the first line that is not understood
     */
    static NodeAllowlists parse(List<String> lines) {
        Map<String, Entry> byNode = new LinkedHashMap<>();
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
                throw new IllegalArgumentException("line " + number + ": expected '<node id or name@id> = exe1, exe2'");
            }
            String node = line.substring(0, equals).strip();
            if (node.isEmpty() || !printableWithoutSpaces(node)) {
                throw new IllegalArgumentException("line " + number + ": '" + shorten(node)
                        + "' is not a node id or name@id (nor '*')");
            }
            String name = null;
            String id = node;
            int at = node.lastIndexOf('@');
            if (at >= 0) {
                name = node.substring(0, at);
                id = node.substring(at + 1);
            }
            if (!EVERYONE.equals(node) && (!NODE_ID.matcher(id).matches() || name != null && name.isEmpty())) {
                throw new IllegalArgumentException("line " + number + ": '" + shorten(node) + "' names no node id; write the"
                        + " node's id (n- and 12 hex digits, from 'meshctl nodes'), or name@id: a name alone could be"
                        + " chosen by any node that enrolls under it");
            }
            Integer earlier = firstLine.putIfAbsent(EVERYONE.equals(node) ? node : id, number);
            if (earlier != null) {
                throw new IllegalArgumentException("line " + number + ": '" + id + "' is listed twice (first on line "
                        + earlier + ")");
            }
            List<String> entries = entries(number, line.substring(equals + 1));
            if (EVERYONE.equals(node)) {
                everyone = entries;
            } else {
                byNode.put(id, new Entry(name, entries));
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
