package dev.meshhub.node;

import static org.junit.Assert.assertEquals;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class MeshNodeTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void maxTasksOutOfRangeIsAUsageError() throws Exception {
        String workspace = tmp.newFolder("ws").toString();
        for (String value : new String[] {"0", "-1", "1025"}) {
            assertEquals("--max-tasks " + value, AgentExit.USAGE_OR_ENROLLMENT_REFUSED,
                    MeshNode.run(new String[] {"--hub", "127.0.0.1:1", "--workspace", workspace, "--max-tasks", value}));
        }
    }
}
