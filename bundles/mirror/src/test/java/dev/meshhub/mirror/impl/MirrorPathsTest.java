package dev.meshhub.mirror.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;

import org.junit.Test;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;

public class MirrorPathsTest {

    private static String refused(String path) {
        try {
            MirrorPaths.checkPath(path);
        } catch (MirrorException e) {
            assertEquals(Reason.BAD_PATH, e.reason());
            return e.getMessage();
        }
        fail("accepted " + MirrorPaths.quote(path));
        return null;
    }

    private static void refusedWith(String path, String... fragments) {
        String message = refused(path);
        for (String fragment : fragments) {
            assertTrue("'" + message + "' should contain '" + fragment + "'", message.contains(fragment));
        }
    }

    @Test
    public void refusesEmptyAndNull() {
        refusedWith("", "empty");
        refusedWith(null, "empty");
    }

    @Test
    public void refusesParentSegmentsWithAHelpfulMessage() {
        assertEquals("path '../x' leaves the workspace ('..' segment); use a path relative to the node's workspace",
                refused("../x"));
        refusedWith("a/../b", "'..' segment");
        refusedWith("a/..", "'..' segment");
        refusedWith("..", "'..' segment");
    }

    @Test
    public void refusesTheAgentsPrivateDirectoryHoweverItIsSpelled() {
        for (String path : List.of(".meshnode/credential", ".meshnode/node.key", ".meshnode", ".MeshNode/node.key",
                "%2emeshnode/node.key", "%252Emeshnode/hub-ca.pem")) {
            assertEquals(path, "path '" + path + "' is inside the node agent's private directory .meshnode; nothing in it is"
                    + " ever transferred (rule path.private)", refused(path));
        }
        for (String path : List.of("docs/.meshnode/notes", ".meshnode2/x", "meshnode/x", ".meshnodes")) {
            try {
                assertEquals(path, MirrorPaths.checkPath(path));
            } catch (dev.meshhub.api.mirror.MirrorException e) {
                throw new AssertionError(path + " is not private: " + e.getMessage(), e);
            }
        }
    }

    @Test
    public void refusesDotSegments() {
        refusedWith(".", "'.' segment");
        refusedWith("./a", "'.' segment");
        refusedWith("a/./b", "'.' segment");
    }

    @Test
    public void refusesPercentEncodedDots() {
        refusedWith("%2e%2e/x", "'..' segment once percent-decoded");
        refusedWith("%2E./x", "'..' segment once percent-decoded");
        refusedWith("a/.%2E", "'..' segment once percent-decoded");
        refusedWith("a/%2e", "'.' segment once percent-decoded");
        refusedWith("%252e%252e/x", "'..' segment once percent-decoded");
    }

    @Test
    public void refusesPercentEncodedSeparatorsAndControls() {
        refusedWith("a%2f..%2fb", "a '/'", "percent-encoding");
        refusedWith("a%5cb", "a backslash");
        refusedWith("a%00b", "NUL");
        refusedWith("a%0ab", "U+000A");
    }

    @Test
    public void refusesAbsolutePaths() {
        refusedWith("/x", "absolute");
        refusedWith("/", "absolute");
        refusedWith("\\x", "absolute");
        refusedWith("\\\\server\\share\\x", "absolute");
        refusedWith("C:\\x", "Windows drive");
        refusedWith("C:/x", "Windows drive");
        refusedWith("c:x", "Windows drive");
    }

    @Test
    public void refusesBackslashes() {
        refusedWith("a\\b", "backslash");
        refusedWith("a\\..\\..\\b", "backslash");
    }

    @Test
    public void refusesEmptySegments() {
        refusedWith("a//b", "empty segment");
        refusedWith("a/", "empty segment");
    }

    @Test
    public void refusesNulAndControlCharactersAndEscapesThemInTheMessage() {
        String message = refused("a\u0000b");
        assertTrue(message, message.contains("NUL"));
        assertFalse("the NUL itself must not reach a log", message.indexOf('\u0000') >= 0);
        message = refused("a\nb");
        assertTrue(message, message.contains("U+000A"));
        assertFalse("a newline could forge a log line", message.contains("\n"));
        refusedWith("a\u007fb", "U+007F");
        refusedWith("a\u0085b", "U+0085");
        refusedWith("a\tb", "U+0009");
    }

    @Test
    public void refusesUnpairedSurrogates() {
        refusedWith("a\uD800b", "unpaired surrogate");
        refusedWith("a\uDC00", "unpaired surrogate");
    }

    @Test
    public void refusesOverLongNamesCountedInUtf8Bytes() throws MirrorException {
        assertEquals("x".repeat(255), MirrorPaths.checkPath("x".repeat(255)));
        refusedWith("x".repeat(256), "256 bytes", "at most 255");
        // 128 characters, but 256 bytes in UTF-8.
        refusedWith("a/" + "é".repeat(128), "256 bytes");
        assertEquals("é".repeat(127), MirrorPaths.checkPath("é".repeat(127)));
    }

    @Test
    public void refusesOverLongPaths() throws MirrorException {
        String segment = "s".repeat(99);
        StringBuilder path = new StringBuilder(segment);
        while (path.length() + 100 <= 4096) {
            path.append('/').append(segment);
        }
        assertEquals(path.toString(), MirrorPaths.checkPath(path.toString()));
        path.append("/").append("t".repeat(4097 - path.length()));
        refusedWith(path.toString(), "at most 4096");
    }

    @Test
    public void aHugeHostilePathIsQuotedShortInTheMessage() {
        String message = refused("../" + "x".repeat(100_000));
        assertTrue(message.length() < 400);
    }

    @Test
    public void acceptsOrdinaryPathsUnchanged() throws MirrorException {
        for (String path : new String[] {"a", "a/b/c.txt", "..a", "a..", "...", "a/.hidden", ".config/x", "%41",
                "100%", "a%2", "é/ü.txt", "a b/c d", "日本語/ファイル", "emoji-\uD83D\uDE00.txt", "C", "c;x"}) {
            assertEquals(path, MirrorPaths.checkPath(path));
        }
    }

    @Test
    public void percentDecodingKeepsMalformedEscapes() {
        assertEquals("a%zzb", MirrorPaths.percentDecode("a%zzb"));
        assertEquals("..", MirrorPaths.percentDecode("%2e%2E"));
        assertEquals("%", MirrorPaths.percentDecode("%25"));
        assertEquals("a%", MirrorPaths.percentDecode("a%"));
    }

    @Test
    public void checksNodeIds() {
        assertEquals("n-0123456789ab", MirrorPaths.checkNodeId("n-0123456789ab"));
        assertEquals("node_1.x", MirrorPaths.checkNodeId("node_1.x"));
        for (String bad : new String[] {null, "", ".", "..", ".partial", "a/b", "a\\b", "../x", "a b", "x".repeat(65),
                "n\u0000", "é"}) {
            try {
                MirrorPaths.checkNodeId(bad);
                fail("accepted node id " + MirrorPaths.quote(bad));
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage(), expected.getMessage().startsWith("node id"));
            }
        }
    }
}
