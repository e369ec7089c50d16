package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.regex.Pattern;

import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentException.Reason;

/** What a node name may look like, which node holds one, and the names given to nodes that ask for none. */
final class NodeNames {

    static final int MAX_LENGTH = 63;
    static final String MALFORMED_MESSAGE = "node name is malformed: expected 1 to 63 characters from"
            + " A-Z a-z 0-9 . _ -, starting with a letter or digit, and not shaped like a node id (n-<12 hex>)";
    private static final int ATTEMPTS_FOR_FREE_NAME = 10;
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

    /**
     * The name a node enrolls under: {@code requested}, or a generated free one when it asked for none.
     *
     * @throws EnrollmentException NAME_TAKEN when another node holds the name (ignoring case)
     */
    static String choose(Connection connection, String requested, TokenSecrets secrets) throws SQLException {
        if (NodeNames.wantsGenerated(requested)) {
            for (int attempt = 0; attempt < ATTEMPTS_FOR_FREE_NAME; attempt++) {
                String generated = NodeNames.generate(secrets);
                if (holderOf(connection, generated) == null) {
                    return generated;
                }
            }
            throw new IllegalStateException("no free generated node name after " + ATTEMPTS_FOR_FREE_NAME + " attempts");
        }
        String holder = holderOf(connection, requested);
        if (holder != null) {
            throw taken(requested, holder);
        }
        return requested;
    }

    /** The id of the node holding {@code name} (ignoring case), or null. */
    static String holderOf(Connection connection, String name) throws SQLException {
        // Names differing only in case are one name (a case-insensitive file system or eye takes them for one).
        try (PreparedStatement select = connection.prepareStatement("SELECT node_id FROM NODES WHERE LOWER(name) = ?")) {
            select.setString(1, name.toLowerCase(java.util.Locale.ROOT));
            try (ResultSet rows = select.executeQuery()) {
                return rows.next() ? rows.getString(1) : null;
            }
        }
    }

    /** The refusal of a name another node holds. */
    static EnrollmentException taken(String name, String holder) {
        return new EnrollmentException(Reason.NAME_TAKEN,
                "node name '" + name + "' is taken by node " + holder + "; start the node with another --name");
    }
}
