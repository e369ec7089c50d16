package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import org.junit.Test;
import picocli.CommandLine;

public class TtlTest {

    @Test
    public void acceptsTheDocumentedForms() {
        assertEquals(Duration.ofSeconds(90), Ttl.parse("90s"));
        assertEquals(Duration.ofMinutes(30), Ttl.parse("30m"));
        assertEquals(Duration.ofHours(1), Ttl.parse("1h"));
        assertEquals(Duration.ofMinutes(150), Ttl.parse("2h30m"));
        assertEquals(Duration.ofDays(1), Ttl.parse("1d"));
        assertEquals(Duration.ofSeconds(86_400 + 3_600 + 60 + 1), Ttl.parse("1d1h1m1s"));
        assertEquals(Duration.ofMinutes(90), Ttl.parse("90m"));
        assertEquals(Duration.ofSeconds(5), Ttl.parse(" 5s "));
    }

    @Test
    public void rejectsEverythingElse() {
        for (String bad : new String[] {"", " ", "10", "1x", "h", "1h2", "30m1h", "1h1h", "-5m", "1.5h", "1H",
                "0s", "0h0m", "1 h", "9999999999s", "1d 2h", "P1D"}) {
            try {
                Ttl.parse(bad);
                fail("accepted '" + bad + "'");
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("90s, 30m, 1h, 2h30m, 1d"));
            }
        }
    }

    @Test
    public void largestComponentsDoNotOverflow() {
        assertEquals(Duration.ofDays(999_999_999L).plusSeconds(999_999_999L * 3_661),
                Ttl.parse("999999999d999999999h999999999m999999999s"));
    }

    @Test(expected = CommandLine.TypeConversionException.class)
    public void converterTurnsBadValuesIntoUsageErrors() {
        new Ttl.Converter().convert("soon");
    }
}
