package dev.meshhub.embed;

import static org.junit.Assert.assertEquals;

import java.util.Map;
import java.util.TreeMap;

import org.junit.Test;

/** The builder's settings written over a .cfg file: its keys replaced in place, new ones appended, the rest kept. */
public class ConfigFilesTest {

    @Test
    public void namedKeysAreReplacedInPlaceAndTheRestOfTheFileIsKept() {
        String file = "# the node port\nport = 7700\n#port = 1\nbindAddress=0.0.0.0\nheartbeatIntervalMs = 5000\n";
        assertEquals("# the node port\nport = 17700\n#port = 1\nbindAddress = 127.0.0.1\nheartbeatIntervalMs = 5000\n",
                ConfigFiles.merge(file, new TreeMap<>(Map.of("port", "17700", "bindAddress", "127.0.0.1"))));
    }

    @Test
    public void keysTheFileLacksAreAppended() {
        assertEquals("port = 1\nthreads = 4\n", ConfigFiles.merge("port = 1", Map.of("threads", "4")));
        assertEquals("threads = 4\n", ConfigFiles.merge("", Map.of("threads", "4")));
    }
}
