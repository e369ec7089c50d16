package dev.meshhub.config.env.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.junit.Test;
import org.osgi.framework.Constants;

public class EnvironmentConfigurationPluginTest {

    @Test
    public void variableNamesMapToCamelCaseKeysOfTheirPid() {
        EnvironmentConfigurationPlugin plugin = new EnvironmentConfigurationPlugin(Map.of(
                "MESHHUB_TRANSPORT_PORT", "7800",
                "MESHHUB_TRANSPORT_HEARTBEAT_INTERVAL_MS", "250",
                "MESHHUB_JOURNAL_DATABASE_DIRECTORY", "/var/lib/meshhub",
                "PATH", "/usr/bin"));
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(Constants.SERVICE_PID, "dev.meshhub.transport");
        props.put("port", "7700");
        props.put("bindAddress", "0.0.0.0");

        plugin.modifyConfiguration(null, props);

        assertEquals("7800", props.get("port"));
        assertEquals("250", props.get("heartbeatIntervalMs"));
        assertEquals("0.0.0.0", props.get("bindAddress"));
        assertNull("another PID's variable must not leak in", props.get("databaseDirectory"));
    }

    @Test
    public void foreignPidsAreLeftAlone() {
        EnvironmentConfigurationPlugin plugin = new EnvironmentConfigurationPlugin(Map.of("MESHHUB_TRANSPORT_PORT", "1"));
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(Constants.SERVICE_PID, "org.apache.felix.fileinstall.abc");
        props.put("port", "2");

        plugin.modifyConfiguration(null, props);

        assertEquals("2", props.get("port"));
    }

    @Test
    public void prefixIsNotConfusedWithALongerPid() {
        // MESHHUB_TRANSPORT_X belongs to dev.meshhub.transport, not to dev.meshhub.transport.admin.
        EnvironmentOverrides overrides = new EnvironmentOverrides(Map.of("MESHHUB_TRANSPORT_ADMIN_PORT", "9"));
        assertEquals(Map.of("port", new EnvironmentOverrides.Override("MESHHUB_TRANSPORT_ADMIN_PORT", "9")),
                overrides.forPid("dev.meshhub.transport.admin"));
        assertEquals("adminPort", overrides.forPid("dev.meshhub.transport").keySet().iterator().next());
    }

    @Test
    public void meshctlsVariablesNeverBecomeAdminConfiguration() {
        // MESHHUB_ADMIN_TOKEN holds the admin token itself: it must not end up in ConfigAdmin (config:list shows it).
        EnvironmentOverrides overrides = new EnvironmentOverrides(Map.of(
                "MESHHUB_ADMIN_TOKEN", "mha.secret", "MESHHUB_ADMIN_ADDRESS", "10.0.0.1:7701",
                "MESHHUB_ADMIN_TOKEN_FILE", "etc/other.token", "MESHHUB_ADMIN_PORT", "7801"));
        assertEquals(Map.of(
                        "port", new EnvironmentOverrides.Override("MESHHUB_ADMIN_PORT", "7801"),
                        "tokenFile", new EnvironmentOverrides.Override("MESHHUB_ADMIN_TOKEN_FILE", "etc/other.token")),
                overrides.forPid("dev.meshhub.admin"));
    }

    @Test
    public void keyConversion() {
        assertEquals("heartbeatIntervalMs", EnvironmentOverrides.keyFor("HEARTBEAT_INTERVAL_MS"));
        assertEquals("port", EnvironmentOverrides.keyFor("PORT"));
        assertEquals("a.b", EnvironmentOverrides.keyFor("_A__B_"));
        assertEquals("meshhub.management.timeLimit", EnvironmentOverrides.keyFor("MESHHUB__MANAGEMENT__TIME_LIMIT"));
        assertEquals("an empty segment makes no key", "", EnvironmentOverrides.keyFor("A____B"));
        assertNull(EnvironmentOverrides.prefixFor("dev.meshhub."));
        assertEquals("MESHHUB_NODE_AGENT_", EnvironmentOverrides.prefixFor("dev.meshhub.node-agent"));
    }
}
