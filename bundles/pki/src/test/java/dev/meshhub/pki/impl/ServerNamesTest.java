package dev.meshhub.pki.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.List;

import org.junit.Test;

public class ServerNamesTest {

    @Test
    public void configuredNamesComeFirstAndLoopbackIsAlwaysThere() {
        ServerNames names = ServerNames.of(List.of("Hub.Example.org", "10.0.0.7", " *.mesh.internal ", "::1"));
        assertEquals(List.of("hub.example.org", "*.mesh.internal", "localhost"), names.dnsNames());
        assertEquals(List.of("10.0.0.7", "0:0:0:0:0:0:0:1", "127.0.0.1"), names.ipAddresses());
    }

    @Test
    public void withNothingConfiguredTheMachinesOwnNamesAndAddressesAreUsed() {
        ServerNames names = ServerNames.of(List.of());
        assertTrue(names.dnsNames().contains("localhost"));
        assertTrue(names.ipAddresses().contains("127.0.0.1"));
        assertTrue("an interface address besides loopback: " + names.ipAddresses(), names.ipAddresses().size() >= 2);
    }

    @Test
    public void somethingThatIsNeitherANameNorAnAddressIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServerNames.of(List.of("hub_1 .org")));
        assertEquals("advertisedNames: 'hub_1 .org' is neither a DNS name nor an IP address", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ServerNames.of(List.of("300.1.1.1")));
        assertNull("an out-of-range quad is no literal and is never looked up", ServerNames.ipLiteral("300.1.1.1"));
    }
}
