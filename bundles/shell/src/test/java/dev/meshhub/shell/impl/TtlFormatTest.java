package dev.meshhub.shell.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;

import org.junit.Test;

public class TtlFormatTest {

    @Test
    public void parsesUnitsAndCombinations() {
        assertEquals(Duration.ofSeconds(90), TtlFormat.parse("90s"));
        assertEquals(Duration.ofMinutes(30), TtlFormat.parse("30m"));
        assertEquals(Duration.ofMinutes(150), TtlFormat.parse("2h30m"));
        assertEquals(Duration.ofDays(1), TtlFormat.parse(" 1d "));
    }

    @Test
    public void rejectsWhatIsNotADuration() {
        for (String bad : new String[] {"", "30", "m", "1x", "-5m", "1h 30m", "9999999999s", "x".repeat(10_000)}) {
            IllegalArgumentException e = assertThrows(bad, IllegalArgumentException.class, () -> TtlFormat.parse(bad));
            assertTrue(e.getMessage(), e.getMessage().contains("e.g. 90s, 30m"));
            assertTrue("message stays short", e.getMessage().length() < 150);
        }
    }
}
