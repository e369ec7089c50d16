package dev.meshhub.journal.impl;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An invite token: {@code "mhi." + inviteId + "." + secret}, inviteId 16 lowercase hex characters,
 * secret 43 base64url characters. Only the invite id may be logged.
 */
final class InviteToken {

    static final String MALFORMED_MESSAGE =
            "invite token is malformed: expected mhi.<16 hex>.<43 base64url characters>";
    private static final int ID_HEX_CHARS = 16;
    private static final int LENGTH = 4 + ID_HEX_CHARS + 1 + TokenSecrets.SECRET_LENGTH;
    private static final Pattern SHAPE = Pattern.compile("mhi\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}");

    private final String inviteId;
    private final String secret;

    private InviteToken(String inviteId, String secret) {
        this.inviteId = inviteId;
        this.secret = secret;
    }

    /** A new random token. */
    static InviteToken issue(TokenSecrets secrets) {
        return new InviteToken(secrets.randomHex(ID_HEX_CHARS / 2), secrets.newSecret());
    }

    /** The token, if {@code text} has exactly the expected shape; the length is checked before any regex. */
    static Optional<InviteToken> parse(String text) {
        if (text == null || text.length() != LENGTH || !SHAPE.matcher(text).matches()) {
            return Optional.empty();
        }
        return Optional.of(new InviteToken(text.substring(4, 4 + ID_HEX_CHARS), text.substring(5 + ID_HEX_CHARS)));
    }

    String inviteId() {
        return inviteId;
    }

    /** The secret part, to hash; never log it. */
    String secret() {
        return secret;
    }

    /** The full token, to hand to the admin once. */
    String text() {
        return "mhi." + inviteId + "." + secret;
    }

    @Override
    public String toString() {
        return "InviteToken[" + inviteId + "]";
    }
}
