package dev.meshhub.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import org.junit.Test;

public class MavenLayoutTest {

    @Test
    public void aJarByDefault() {
        assertEquals("org/apache/felix/org.apache.felix.scr/2.2.12/org.apache.felix.scr-2.2.12.jar",
                MavenLayout.path("mvn:org.apache.felix/org.apache.felix.scr/2.2.12"));
    }

    @Test
    public void typeIsTheExtensionAndClassifierFollowsTheVersion() {
        assertEquals("dev/meshhub/features/0.1.0-SNAPSHOT/features-0.1.0-SNAPSHOT-features.xml",
                MavenLayout.path("mvn:dev.meshhub/features/0.1.0-SNAPSHOT/xml/features"));
        assertEquals("g/a/1/a-1.zip", MavenLayout.path("mvn:g/a/1/zip"));
        assertEquals("an empty type means jar", "g/a/1/a-1-tests.jar", MavenLayout.path("mvn:g/a/1//tests"));
    }

    @Test
    public void resolvesInsideARepository() {
        Path system = Path.of("/hub/system");
        assertEquals(Path.of("/hub/system/com/google/guava/guava/33.6.0-jre/guava-33.6.0-jre.jar"),
                MavenLayout.resolve(system, "mvn:com.google.guava/guava/33.6.0-jre"));
    }

    @Test
    public void malformedLocationsAreRefused() {
        for (String location : new String[] {
                "file:/tmp/a.jar", "mvn:g/a", "mvn:g/a/1/jar/c/extra", "mvn:g//1",
                "mvn:https://repo.example.org/maven2!g/a/1", "mvn:g/../../etc/1", null}) {
            try {
                MavenLayout.path(location);
                fail("accepted " + location);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().contains(String.valueOf(location)));
            }
        }
    }
}
