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

    @Test
    public void eachFeatureFileGoesToItsPid() throws Exception {
        java.nio.file.Path system = java.nio.file.Files.createTempDirectory("system");
        java.nio.file.Path etc = java.nio.file.Files.createTempDirectory("etc");
        for (String name : new String[] {"transport", "felix-http"}) {
            java.nio.file.Path cfg = system.resolve("dev/meshhub/features/1.0/features-1.0-" + name + ".cfg");
            java.nio.file.Files.createDirectories(cfg.getParent());
            java.nio.file.Files.writeString(cfg, "# " + name + "\n");
        }
        ConfigFiles.write(etc, system, java.util.List.of("mvn:dev.meshhub/features/1.0/cfg/transport",
                "mvn:dev.meshhub/features/1.0/cfg/felix-http"), Map.of());
        assertEquals("# transport\n", java.nio.file.Files.readString(etc.resolve("dev.meshhub.transport.cfg")));
        assertEquals("Felix HTTP Jetty reads its own PID", "# felix-http\n",
                java.nio.file.Files.readString(etc.resolve("org.apache.felix.http.cfg")));
    }
}
