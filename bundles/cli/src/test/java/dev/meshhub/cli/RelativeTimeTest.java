package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class RelativeTimeTest {

    @Test
    public void spansUseAtMostTwoUnitsAndTenthsOnlyUnderTenSeconds() {
        assertEquals("-", RelativeTime.span(-1));
        assertEquals("0ms", RelativeTime.span(0));
        assertEquals("999ms", RelativeTime.span(999));
        assertEquals("1s", RelativeTime.span(1_000));
        assertEquals("1.9s", RelativeTime.span(1_999));
        assertEquals("12s", RelativeTime.span(12_999));
        assertEquals("1m", RelativeTime.span(60_000));
        assertEquals("2m5s", RelativeTime.span(125_000));
        assertEquals("1h30m", RelativeTime.span(5_430_000));
        assertEquals("2d", RelativeTime.span(172_800_000));
        assertEquals("1d6h", RelativeTime.span(108_000_000));
    }

    @Test
    public void relativeTimesSayAgoInOrNow() {
        long now = 1_767_225_660_000L;
        assertEquals("-", RelativeTime.relative(0, now));
        assertEquals("now", RelativeTime.relative(now - 999, now));
        assertEquals("now", RelativeTime.relative(now + 999, now));
        assertEquals("4s ago", RelativeTime.relative(now - 4_200, now));
        assertEquals("in 3s", RelativeTime.relative(now + 3_000, now));
        assertEquals("1h ago", RelativeTime.relative(now - 3_600_000, now));
    }
}
