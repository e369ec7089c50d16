package dev.meshhub.bench.probe.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class CpuClockTest {

    @Test
    public void userAndSystemTimeAreReadPastAProcessNameWithSpacesAndParentheses() {
        String stat = "4321 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 30 0 100 200";
        assertEquals(175 * 10_000_000L, CpuClock.parseStat(stat));
    }

    @Test
    public void thisProcessAndNoWriterThread() {
        assertTrue("this JVM has used some CPU", CpuClock.processNanos() > 0);
        assertEquals("no journal writer in a unit test", -1, CpuClock.writerNanos());
    }
}
