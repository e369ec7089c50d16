package dev.meshhub.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.Test;

public class PlaceholdersTest {

    private static final Function<String, String> OUTSIDE =
            Map.of("meshhub.home", "/opt/hub", "user.name", "ann")::get;

    @Test
    public void keysOfTheSameFileComeBeforeTheOutsideAndChain() {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("log.file", "${log.dir}/hub.log");
        properties.put("log.dir", "${data}/log");
        properties.put("data", "${meshhub.home}/data");
        properties.put("user.name", "from the file");

        Map<String, String> resolved = Placeholders.substitute(properties, OUTSIDE);

        assertEquals("/opt/hub/data/log/hub.log", resolved.get("log.file"));
        assertEquals("/opt/hub/data/log", resolved.get("log.dir"));
        assertEquals("from the file", Placeholders.substitute(Map.of("who", "${user.name}", "user.name", "from the file"),
                OUTSIDE).get("who"));
    }

    @Test
    public void unknownPlaceholdersStayAsWritten() {
        assertEquals("${nope}/x and /opt/hub, ${unclosed",
                Placeholders.substitute("${nope}/x and ${meshhub.home}, ${unclosed", OUTSIDE));
        assertEquals("plain", Placeholders.substitute("plain", OUTSIDE));
        assertEquals("$/{}", Placeholders.substitute("$/{}", OUTSIDE));
    }

    @Test
    public void cyclesAreReportedWithTheirPath() {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("a", "${b}");
        properties.put("b", "x${c}");
        properties.put("c", "${a}");
        try {
            Placeholders.substitute(properties, OUTSIDE);
            fail("resolved a cycle");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().endsWith("a -> b -> c -> a"));
        }
    }

    @Test
    public void theSystemLookupReadsEnvironmentVariablesByPrefix() {
        String path = System.getenv("PATH");
        if (path != null) {
            assertEquals(path, Placeholders.substitute("${env:PATH}", Placeholders.systemLookup()));
        }
        assertEquals(System.getProperty("java.version"),
                Placeholders.substitute("${java.version}", Placeholders.systemLookup()));
    }
}
