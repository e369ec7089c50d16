package dev.meshhub.journal.impl;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A node credential: {@code "mhc." + nodeId + "." + secret}, nodeId {@code "n-"} and 12 lowercase
 * hex characters, secret 43 base64url characters. Only the node id may be logged.
 */
final class NodeCredential {

    private static final int NODE_ID_HEX_CHARS = 12;
    private static final int NODE_ID_LENGTH = 2 + NODE_ID_HEX_CHARS;
    private static final int LENGTH = 4 + NODE_ID_LENGTH + 1 + TokenSecrets.SECRET_LENGTH;
    private static final Pattern SHAPE = Pattern.compile("mhc\\.n-[0-9a-f]{12}\\.[A-Za-z0-9_-]{43}");
    private static final Pattern NODE_ID = Pattern.compile("n-[0-9a-f]{12}");

    private final String nodeId;
    private final String secret;

    private NodeCredential(String nodeId, String secret) {
        this.nodeId = nodeId;
        this.secret = secret;
    }

    /** A new random node id. */
    static String newNodeId(TokenSecrets secrets) {
        return "n-" + secrets.randomHex(NODE_ID_HEX_CHARS / 2);
    }

    /** Whether {@code text} has the shape of a node id. */
    static boolean looksLikeNodeId(String text) {
        return text != null && text.length() == NODE_ID_LENGTH && NODE_ID.matcher(text).matches();
    }

    /** A new random credential for {@code nodeId}. */
    static NodeCredential issue(String nodeId, TokenSecrets secrets) {
        return new NodeCredential(nodeId, secrets.newSecret());
    }

    /** The credential, if {@code text} has exactly the expected shape; the length is checked before any regex. */
    static Optional<NodeCredential> parse(String text) {
        if (text == null || text.length() != LENGTH || !SHAPE.matcher(text).matches()) {
            return Optional.empty();
        }
        return Optional.of(new NodeCredential(text.substring(4, 4 + NODE_ID_LENGTH), text.substring(5 + NODE_ID_LENGTH)));
    }

    String nodeId() {
        return nodeId;
    }

    /** The secret part, to hash; never log it. */
    String secret() {
        return secret;
    }

    /** The full credential, handed to the node once. */
    String text() {
        return "mhc." + nodeId + "." + secret;
    }

    @Override
    public String toString() {
        return "NodeCredential[" + nodeId + "]";
    }
}
