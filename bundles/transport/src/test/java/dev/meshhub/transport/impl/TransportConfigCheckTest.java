package dev.meshhub.transport.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.Test;

/** The node port's TLS settings: plaintext only on loopback, known protocols only. */
public class TransportConfigCheckTest {

    @Test
    public void plaintextIsRefusedOffLoopbackNamingTheKeyAndTheWayOut() {
        for (String bind : List.of("0.0.0.0", "10.0.0.7", "hub.example.org", "::")) {
            List<String> problems = TransportConfigCheck.problems(Map.of("plaintext", "true", "bindAddress", bind));
            assertEquals(bind + ": " + problems, 1, problems.size());
            assertTrue(problems.get(0), problems.get(0).contains("plaintext = true is refused on bindAddress " + bind)
                    && problems.get(0).contains("bind the node port to loopback"));
        }
        List<String> unbound = TransportConfigCheck.problems(Map.of("plaintext", "true"));
        assertTrue("the default bind address is every interface: " + unbound, unbound.get(0).contains("0.0.0.0"));
    }

    @Test
    public void plaintextOnLoopbackAndTlsAnywhereAreAccepted() {
        for (String bind : List.of("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2")) {
            assertEquals(bind, List.of(), TransportConfigCheck.problems(Map.of("plaintext", "true", "bindAddress", bind)));
        }
        assertEquals(List.of(), TransportConfigCheck.problems(Map.of("plaintext", "false", "bindAddress", "0.0.0.0")));
        assertEquals(List.of(), TransportConfigCheck.problems(Map.of("tlsProtocols", "TLSv1.3, TLSv1.2")));
    }

    @Test
    public void unknownOrEmptyProtocolsAreRefused() {
        for (String protocols : List.of("TLSv1.1", "SSLv3", "TLSv1.3, TLSv1", " , ")) {
            List<String> problems = TransportConfigCheck.problems(Map.of("tlsProtocols", protocols));
            assertEquals(protocols + ": " + problems, 1, problems.size());
            assertTrue(problems.get(0), problems.get(0).startsWith("tlsProtocols = "));
        }
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), TransportConfigCheck.protocols("TLSv1.3,TLSv1.2"));
    }
}
