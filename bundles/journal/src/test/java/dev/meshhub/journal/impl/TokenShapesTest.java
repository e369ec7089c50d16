package dev.meshhub.journal.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.security.SecureRandom;

import org.junit.Test;

public class TokenShapesTest {

    private final TokenSecrets secrets = new TokenSecrets(new SecureRandom());

    @Test
    public void inviteTokenRoundTripsAndHidesItsSecret() {
        InviteToken issued = InviteToken.issue(secrets);
        InviteToken parsed = InviteToken.parse(issued.text()).orElseThrow();
        assertEquals(issued.inviteId(), parsed.inviteId());
        assertEquals(issued.secret(), parsed.secret());
        assertFalse(issued.toString().contains(issued.secret()));
        assertTrue(issued.toString().contains(issued.inviteId()));
    }

    @Test
    public void nodeCredentialRoundTripsAndHidesItsSecret() {
        String nodeId = NodeCredential.newNodeId(secrets);
        assertTrue(NodeCredential.looksLikeNodeId(nodeId));
        NodeCredential issued = NodeCredential.issue(nodeId, secrets);
        NodeCredential parsed = NodeCredential.parse(issued.text()).orElseThrow();
        assertEquals(nodeId, parsed.nodeId());
        assertEquals(issued.secret(), parsed.secret());
        assertFalse(issued.toString().contains(issued.secret()));
    }

    @Test
    public void secretsAreFreshAndHashesCompareExactly() {
        String one = secrets.newSecret();
        String two = secrets.newSecret();
        assertEquals(43, one.length());
        assertNotEquals(one, two);
        assertTrue(TokenSecrets.matches(TokenSecrets.sha256(one), TokenSecrets.sha256(one)));
        assertFalse(TokenSecrets.matches(TokenSecrets.sha256(one), TokenSecrets.sha256(two)));
        byte[] hash = TokenSecrets.sha256(one);
        assertTrue(TokenSecrets.matches(hash, TokenSecrets.fromHex(TokenSecrets.toHex(hash))));
    }

    @Test
    public void namesFollowTheRule() {
        assertTrue(NodeNames.isAcceptable("a"));
        assertTrue(NodeNames.isAcceptable("Web-01.eu_west"));
        assertTrue(NodeNames.isAcceptable("9".repeat(63)));
        assertFalse(NodeNames.isAcceptable("9".repeat(64)));
        assertFalse(NodeNames.isAcceptable("-a"));
        assertFalse(NodeNames.isAcceptable(""));
        assertFalse(NodeNames.isAcceptable(null));
        assertFalse(NodeNames.isAcceptable("n-0123456789ab"));
        assertTrue(NodeNames.isAcceptable("n-0123456789abc"));
        assertTrue(NodeNames.isAcceptable(NodeNames.generate(secrets)));
    }

    @Test
    public void echoedTextIsTruncatedAndPrintable() {
        assertEquals("ab?c", BoundedText.printable("ab\0c", 10));
        assertEquals("abc", BoundedText.printable("abcdef", 3));
        // A surrogate pair is never split.
        assertEquals("a", BoundedText.truncate("a\uD83D\uDE00", 2));
    }
}
