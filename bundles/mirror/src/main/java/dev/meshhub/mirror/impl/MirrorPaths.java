package dev.meshhub.mirror.impl;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;

/**
 * Pure checks of what the transport hands the mirror: node-relative paths and node ids. No disk
 * access. A path that passes is already in normal form ({@code a/b/c}): instead of normalising
 * {@code a/./b} or {@code a//b} away, they are refused, so one file has exactly one name.
 */
final class MirrorPaths {

    /** Longest segment, in UTF-8 bytes (NAME_MAX of common file systems). */
    static final int MAX_SEGMENT_BYTES = 255;
    /** Longest path, in UTF-8 bytes (PATH_MAX on Linux). */
    static final int MAX_PATH_BYTES = 4096;

    /** Ids are {@code n-<hex>} today; this is wider, but never a path separator or a dot-only name. */
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** {@code C:}, {@code c:x}: a Windows drive, absolute or drive-relative. */
    private static final Pattern DRIVE = Pattern.compile("^[A-Za-z]:.*", Pattern.DOTALL);
    private static final String RELATIVE_HINT = "; use a path relative to the node's workspace";
    /**
     * The node agent's private directory at the top of its workspace (key, certificate, hub CA, the
     * bearer credential of old nodes). Nothing in it is ever pulled, pushed, uploaded or served from a
     * mirror, whatever the node agent would do: node.proto states the rule. Compared ignoring case
     * (a case-insensitive file system on the node would take {@code .MeshNode} for it).
     */
    static final String PRIVATE_DIRECTORY = ".meshnode";
    /** The rule a refusal of a private path names. */
    static final String PRIVATE_RULE = "path.private";
    /** Longest quoted value in a message, so a hostile input cannot flood the log. */
    private static final int QUOTE_LIMIT = 120;

    private MirrorPaths() {
    }

    /**
     * Checks a node-relative path and returns it (it is its own normal form).
     *
     * @throws MirrorException BAD_PATH saying what is wrong
     */
    static String checkPath(String path) throws MirrorException {
        if (path == null || path.isEmpty()) {
            throw bad("the path is empty; name a file relative to the node's workspace");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == 0) {
                throw bad("path " + quote(path) + " contains a NUL character");
            }
            if (Character.isISOControl(c)) {
                throw bad("path " + quote(path) + " contains control character U+" + String.format("%04X", (int) c));
            }
            if (Character.isSurrogate(c)) {
                boolean paired = Character.isHighSurrogate(c) && i + 1 < path.length()
                        && Character.isLowSurrogate(path.charAt(i + 1));
                if (!paired) {
                    throw bad("path " + quote(path) + " is not valid Unicode (unpaired surrogate at index " + i + ")");
                }
                i++;
            }
        }
        if (path.startsWith("/") || path.startsWith("\\")) {
            throw bad("path " + quote(path) + " is absolute" + RELATIVE_HINT);
        }
        if (DRIVE.matcher(path).matches()) {
            throw bad("path " + quote(path) + " names a Windows drive" + RELATIVE_HINT);
        }
        if (path.indexOf('\\') >= 0) {
            throw bad("path " + quote(path) + " contains a backslash; separate directories with '/'");
        }
        int pathBytes = path.getBytes(StandardCharsets.UTF_8).length;
        if (pathBytes > MAX_PATH_BYTES) {
            throw bad("path " + quote(path) + " is " + pathBytes + " bytes long in UTF-8; at most " + MAX_PATH_BYTES
                    + " are accepted");
        }
        String[] segments = path.split("/", -1);
        for (String segment : segments) {
            checkSegment(path, segment);
        }
        String first = segments[0];
        while (first.indexOf('%') >= 0 && !percentDecode(first).equals(first)) {
            first = percentDecode(first);
        }
        if (first.equalsIgnoreCase(PRIVATE_DIRECTORY)) {
            throw bad("path " + quote(path) + " is inside the node agent's private directory " + PRIVATE_DIRECTORY
                    + "; nothing in it is ever transferred (rule " + PRIVATE_RULE + ")");
        }
        return path;
    }

    private static void checkSegment(String path, String segment) throws MirrorException {
        if (segment.isEmpty()) {
            throw bad("path " + quote(path) + " has an empty segment ('//' or a leading or trailing '/')");
        }
        int bytes = segment.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SEGMENT_BYTES) {
            throw bad("path " + quote(path) + " has a name of " + bytes + " bytes in UTF-8; at most "
                    + MAX_SEGMENT_BYTES + " are accepted per name");
        }
        dotSegment(path, segment, "");
        // The file system takes %2e literally, but whatever decodes the name later (a web view, a
        // shell script, a node's sync tool) may not; refuse names that decode to something hostile,
        // repeatedly, so double encoding (%252e) does not slip through either.
        String decoded = segment;
        while (decoded.indexOf('%') >= 0) {
            String next = percentDecode(decoded);
            if (next.equals(decoded)) {
                break;
            }
            decoded = next;
            dotSegment(path, decoded, " once percent-decoded");
            for (int i = 0; i < decoded.length(); i++) {
                char c = decoded.charAt(i);
                if (c == '/' || c == '\\' || Character.isISOControl(c)) {
                    throw bad("path " + quote(path) + " hides " + describe(c) + " in percent-encoding ("
                            + quote(segment) + "); send the name unencoded");
                }
            }
        }
    }

    private static void dotSegment(String path, String segment, String how) throws MirrorException {
        if (segment.equals("..")) {
            throw bad("path " + quote(path) + " leaves the workspace ('..' segment" + how + ")" + RELATIVE_HINT);
        }
        if (segment.equals(".")) {
            throw bad("path " + quote(path) + " has a '.' segment" + how + "; send the path without it");
        }
    }

    private static String describe(char c) {
        if (c == '/') {
            return "a '/'";
        }
        if (c == '\\') {
            return "a backslash";
        }
        return c == 0 ? "a NUL character" : "control character U+" + String.format("%04X", (int) c);
    }

    /** Decodes valid {@code %XX} escapes as UTF-8; anything else is kept as it is. */
    static String percentDecode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '%' && i + 2 < in.length) {
                int hi = Character.digit(in[i + 1], 16);
                int lo = Character.digit(in[i + 2], 16);
                if (hi >= 0 && lo >= 0) {
                    out.write(hi * 16 + lo);
                    i += 2;
                    continue;
                }
            }
            out.write(in[i]);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Checks a node id: it becomes a directory name, so it must be one plain name.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    static String checkNodeId(String nodeId) {
        if (nodeId == null || !NODE_ID.matcher(nodeId).matches()) {
            throw new IllegalArgumentException("node id " + quote(nodeId)
                    + " is not 1 to 64 of the characters A-Z a-z 0-9 . _ -");
        }
        if (nodeId.startsWith(".")) {
            // Also keeps node trees apart from the mirror's own .partial directory.
            throw new IllegalArgumentException("node id " + quote(nodeId) + " starts with '.'; such names are reserved");
        }
        return nodeId;
    }

    /** The value in quotes, control characters escaped and cut short, safe for messages and logs. */
    static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(value.length(), QUOTE_LIMIT) + 8).append('\'');
        for (int i = 0; i < value.length(); i++) {
            if (out.length() > QUOTE_LIMIT) {
                out.append("...(").append(value.length()).append(" chars)");
                break;
            }
            char c = value.charAt(i);
            if (Character.isISOControl(c) || Character.isSurrogate(c) && !validPair(value, i)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('\'').toString();
    }

    private static boolean validPair(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    private static MirrorException bad(String message) {
        return new MirrorException(Reason.BAD_PATH, message);
    }
}
