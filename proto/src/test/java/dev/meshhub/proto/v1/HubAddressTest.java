package dev.meshhub.proto.v1;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import org.junit.Test;

public class HubAddressTest {

    @Test
    public void parsesHostAndPort() {
        assertEquals(new HubAddress("hub.example", 7800), HubAddress.parse("hub.example:7800", 7700));
        assertEquals(new HubAddress("10.0.0.1", 7700), HubAddress.parse("10.0.0.1", 7700));
        assertEquals(new HubAddress("::1", 7701), HubAddress.parse("[::1]:7701", 7700));
        assertEquals(new HubAddress("::1", 7700), HubAddress.parse("[::1]", 7700));
        assertEquals("[::1]:7701", HubAddress.parse("[::1]:7701", 7700).toString());
        assertEquals("hub:1", HubAddress.parse(" hub:1 ", 7700).toString());
    }

    @Test
    public void rejectsMalformedAddresses() {
        for (String bad : new String[] {"", ":7700", "hub:", "hub:x", "hub:0", "hub:65536", "::1", "[::1", "[::1]x"}) {
            try {
                HubAddress.parse(bad, 7700);
                fail("accepted '" + bad + "'");
            } catch (IllegalArgumentException expected) {
                // expected
            }
        }
    }
}
