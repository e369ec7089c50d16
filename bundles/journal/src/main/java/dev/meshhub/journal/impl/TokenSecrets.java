package dev.meshhub.journal.impl;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Random ids and secrets for invite tokens and node credentials, and the hashes kept of them.
 *
 * <p>The hash is taken over the secret's text exactly as it appears in the token, not over the
 * decoded bytes: base64url without padding lets several texts decode to the same 32 bytes, and
 * hashing the text keeps exactly one spelling valid.
 */
final class TokenSecrets {

    /** Length of an encoded secret: 32 random bytes as base64url without padding. */
    static final int SECRET_LENGTH = 43;
    private static final int SECRET_BYTES = 32;
    private static final HexFormat HEX = HexFormat.of();
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final SecureRandom random;
    /** Compared against when there is nothing to compare against, so misses cost what hits cost. */
    private final byte[] decoy;

    TokenSecrets(SecureRandom random) {
        this.random = random;
        this.decoy = sha256(newSecret());
    }

    /** {@code bytes} random bytes as lowercase hex. */
    String randomHex(int bytes) {
        byte[] raw = new byte[bytes];
        random.nextBytes(raw);
        return HEX.formatHex(raw);
    }

    /** A fresh secret: 32 random bytes, base64url without padding (43 characters). */
    String newSecret() {
        byte[] raw = new byte[SECRET_BYTES];
        random.nextBytes(raw);
        return BASE64URL.encodeToString(raw);
    }

    /** The hash to compare against when the id is unknown. */
    byte[] decoy() {
        return decoy.clone();
    }

    static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** Constant-time comparison of two hashes. */
    static boolean matches(byte[] presented, byte[] stored) {
        return MessageDigest.isEqual(presented, stored);
    }

    static String toHex(byte[] hash) {
        return HEX.formatHex(hash);
    }

    static byte[] fromHex(String hex) {
        return HEX.parseHex(hex);
    }
}
