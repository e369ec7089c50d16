package dev.meshhub.policy.file.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.Test;

public class NodeAllowlistsTest {

    private static final String A = "n-4f2a00c0ffee";
    private static final String B = "n-77aa00c0ffee";
    private static final String C = "n-9000000000ab";

    @Test
    public void linesNameNodesByIdOrNameAtIdAndStarNamesEveryoneElse() {
        NodeAllowlists lists = NodeAllowlists.parse(List.of(
                "# allowlists per node",
                "! also a comment",
                "",
                A + " = echo, uptime",
                "  Web1@" + B + "=echo,ls , /opt/app/bin/status,ls",
                C + " =",
                "* = echo"));

        assertEquals(Map.of(A, new NodeAllowlists.Entry(null, List.of("echo", "uptime")),
                B, new NodeAllowlists.Entry("Web1", List.of("echo", "ls", "/opt/app/bin/status")),
                C, new NodeAllowlists.Entry(null, List.of())), lists.byNode());
        assertEquals(List.of("echo"), lists.everyone());
        assertEquals("by id, whatever the name", List.of("echo", "uptime"), lists.forNode(A, "db1"));
        assertEquals("by name@id, the name ignoring case", List.of("echo", "ls", "/opt/app/bin/status"), lists.forNode(B, "web1"));
        assertEquals("a node that enrolled as web1 is not the web1 of the file", List.of("echo"), lists.forNode("n-000000000005", "web1"));
        assertEquals("the id's line names another node: the file is stale, nothing", List.of(), lists.forNode(B, "db2"));
        assertEquals("an empty list allows nothing", List.of(), lists.forNode(C, "locked"));
        assertEquals("anyone else", List.of("echo"), lists.forNode("n-000000000005", "db5"));
        assertEquals(List.of("echo"), lists.forNode(null, null));
    }

    @Test
    public void withoutAStarLineAnUnknownNodeMayRunNothing() {
        NodeAllowlists lists = NodeAllowlists.parse(List.of(A + " = echo"));

        assertNull(lists.everyone());
        assertEquals(List.of(), lists.forNode("n-000000000005", "db5"));
        assertEquals(List.of(), NodeAllowlists.NOTHING.forNode("n-000000000005", "web1"));
    }

    @Test
    public void aLineThatIsNotUnderstoodRefusesTheFileNamingTheLine() {
        assertEquals("line 2: expected '<node id or name@id> = exe1, exe2'", refusal(A + " = echo", "web2 echo"));
        assertEquals("line 3: '" + A + "' is listed twice (first on line 1)", refusal(A + " = echo", "", "web1@" + A + " = ls"));
        assertEquals("line 1: 'bin/ls' is neither a program name nor a normalised absolute path", refusal(A + " = bin/ls"));
        assertEquals("line 1: 'my node' is not a node id or name@id (nor '*')", refusal("my node = echo"));
        assertEquals("line 1: 'rm -rf' holds a space or a control character; separate entries with commas",
                refusal(A + " = rm -rf"));
        for (String key : List.of("web1", "n-4f2a", "@" + A, "web1@", "web1@N-4F2A00C0FFEE", "web1@" + A + "x")) {
            String refused = refusal(key + " = echo");
            assertTrue(refused, refused.contains("names no node id") && refused.contains("a name alone could be chosen by any node"));
        }
    }

    private static String refusal(String... lines) {
        return assertThrows(IllegalArgumentException.class, () -> NodeAllowlists.parse(List.of(lines))).getMessage();
    }
}
