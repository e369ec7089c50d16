package dev.meshhub.policy.file.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.Test;

public class NodeAllowlistsTest {

    @Test
    public void linesNameNodesAndStarNamesEveryoneElse() {
        NodeAllowlists lists = NodeAllowlists.parse(List.of(
                "# allowlists per node",
                "! also a comment",
                "",
                "n-4f2a = echo, uptime",
                "  web1=echo,ls , /opt/app/bin/status,ls",
                "locked =",
                "* = echo"));

        assertEquals(Map.of("n-4f2a", List.of("echo", "uptime"), "web1", List.of("echo", "ls", "/opt/app/bin/status"),
                "locked", List.of()), lists.byNode());
        assertEquals(List.of("echo"), lists.everyone());
        assertEquals("by id", List.of("echo", "uptime"), lists.forNode("n-4f2a", "db1"));
        assertEquals("by name", List.of("echo", "ls", "/opt/app/bin/status"), lists.forNode("n-77", "web1"));
        assertEquals("the id first", List.of("echo", "uptime"), lists.forNode("n-4f2a", "web1"));
        assertEquals("an empty list allows nothing", List.of(), lists.forNode("n-9", "locked"));
        assertEquals("anyone else", List.of("echo"), lists.forNode("n-5", "db5"));
        assertEquals(List.of("echo"), lists.forNode(null, null));
    }

    @Test
    public void withoutAStarLineAnUnknownNodeMayRunNothing() {
        NodeAllowlists lists = NodeAllowlists.parse(List.of("web1 = echo"));

        assertNull(lists.everyone());
        assertEquals(List.of(), lists.forNode("n-5", "db5"));
        assertEquals(List.of(), NodeAllowlists.NOTHING.forNode("n-5", "web1"));
    }

    @Test
    public void aLineThatIsNotUnderstoodRefusesTheFileNamingTheLine() {
        assertEquals("line 2: expected '<node id or name> = exe1, exe2'", refusal("web1 = echo", "web2 echo"));
        assertEquals("line 3: 'web1' is listed twice (first on line 1)", refusal("web1 = echo", "", "web1 = ls"));
        assertEquals("line 1: 'bin/ls' is neither a program name nor a normalised absolute path", refusal("web1 = bin/ls"));
        assertEquals("line 1: 'my node' is not a node id or name (nor '*')", refusal("my node = echo"));
        assertEquals("line 1: 'rm -rf' holds a space or a control character; separate entries with commas",
                refusal("web1 = rm -rf"));
    }

    private static String refusal(String... lines) {
        return assertThrows(IllegalArgumentException.class, () -> NodeAllowlists.parse(List.of(lines))).getMessage();
    }
}
