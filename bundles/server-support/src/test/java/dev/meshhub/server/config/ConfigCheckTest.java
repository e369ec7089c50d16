package dev.meshhub.server.config;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.Test;

/** Configuration checked against the bounds its metatype declares, the way a component sees it delivered. */
public class ConfigCheckTest {

    private final ConfigCheck check = ConfigCheck.forPid("test.config", ConfigCheckTest.class);

    @Test
    public void theDefinitionsKeysComeFromItsOwnOcdOnly() {
        assertEquals(List.of("port", "heartbeatIntervalMs", "bindAddress", "quotaBytes", "enabled"), check.keys());
    }

    @Test
    public void valuesInsideTheirBoundsPassAsTheStringsAFileDeliversOrAsTypedValues() {
        ConfigCheck.Result result = check.check(Map.of("port", "7800", "heartbeatIntervalMs", 50, "bindAddress", "127.0.0.1",
                "quotaBytes", "99999999999", "enabled", "FALSE"));
        assertTrue(result.problems().toString(), result.ok());
        assertNull(result.unknownKeysWarning());
    }

    @Test
    public void eachBadValueIsNamedWithItsKeyAndTheBoundItBreaks() {
        ConfigCheck.Result result = check.check(Map.of("port", "70000", "heartbeatIntervalMs", "10", "bindAddress", "",
                "quotaBytes", "lots", "enabled", "yes"));
        assertFalse(result.ok());
        assertEquals(List.of(
                "bindAddress must have at least 1 characters",
                "enabled = 'yes' is not true or false",
                "heartbeatIntervalMs = 10 is below its minimum 50",
                "port = 70000 is above its maximum 65535",
                "quotaBytes = 'lots' is not a whole number"), result.problems());
        assertEquals("configuration test.config refused, the old settings stay: bindAddress must have at least 1 characters;"
                + " enabled = 'yes' is not true or false; heartbeatIntervalMs = 10 is below its minimum 50;"
                + " port = 70000 is above its maximum 65535; quotaBytes = 'lots' is not a whole number",
                result.refusal("the old settings stay"));
    }

    @Test
    public void aNumberPastItsTypeIsRefusedEvenWithoutAMaximum() {
        assertEquals(List.of("heartbeatIntervalMs = 3000000000 is above its maximum 2147483647"),
                check.check(Map.of("heartbeatIntervalMs", "3000000000")).problems());
    }

    @Test
    public void unknownKeysAreReportedWithAHintButDoNotRefuseTheConfiguration() {
        ConfigCheck withMoved = check.withMovedKeys(Map.of("adminPort", "moved to etc/dev.meshhub.admin.cfg as port"));
        ConfigCheck.Result result = withMoved.check(Map.of("HeartbeatIntervalMS", "100", "adminPort", "7701", "colour", "blue",
                "service.pid", "test.config", "component.name", "x", "felix.fileinstall.filename", "file:/etc/x.cfg",
                "event.topics", "a/b", "hc.name", "transport"));
        assertTrue(result.ok());
        assertEquals(List.of("HeartbeatIntervalMS (did you mean heartbeatIntervalMs?)",
                "adminPort (moved to etc/dev.meshhub.admin.cfg as port)", "colour"), result.unknownKeys());
        assertEquals("configuration test.config: unknown key(s) ignored: HeartbeatIntervalMS (did you mean heartbeatIntervalMs?),"
                + " adminPort (moved to etc/dev.meshhub.admin.cfg as port), colour", result.unknownKeysWarning());
    }

    @Test
    public void aListWhereOneValueBelongsIsRefused() {
        assertEquals(List.of("port takes one value, not a list"), check.check(Map.of("port", new String[] {"1", "2"})).problems());
    }

    @Test
    public void aMissingDefinitionIsABuildMistakeSaidAsSuch() {
        IllegalStateException missing = assertThrows(IllegalStateException.class, () -> ConfigCheck.forPid("no.such.pid", ConfigCheckTest.class));
        assertTrue(missing.getMessage(), missing.getMessage().startsWith("no metatype document OSGI-INF/metatype/no.such.pid.xml"));
    }
}
