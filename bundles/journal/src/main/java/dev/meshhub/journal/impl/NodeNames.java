package dev.meshhub.journal.impl;

import java.util.regex.Pattern;

/** What a node name may look like, and the names given to nodes that ask for none. */
final class NodeNames {

    static final int MAX_LENGTH = 63;
    static final String MALFORMED_MESSAGE = "node name is malformed: expected 1 to 63 characters from"
            + " A-Z a-z 0-9 . _ -, starting with a letter or digit, and not shaped like a node id (n-<12 hex>)";
    private static final Pattern SHAPE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    private NodeNames() {
    }

    /** Whether the caller asked for no particular name. */
    static boolean wantsGenerated(String requested) {
        return requested == null || requested.isEmpty();
    }

    /**
     * Whether {@code requested} is an acceptable name. A name shaped like a node id is refused, since
     * lookups try ids first and such a name would hide, or pose as, another node.
     */
    static boolean isAcceptable(String requested) {
        return requested != null
                && requested.length() <= MAX_LENGTH
                && SHAPE.matcher(requested).matches()
                && !NodeCredential.looksLikeNodeId(requested);
    }

    /** A generated name: {@code "node-"} and 6 random hex characters. */
    static String generate(TokenSecrets secrets) {
        return "node-" + secrets.randomHex(3);
    }
}
