package dev.meshhub.policy.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.Test;

public class RevisionsTest {

    @Test
    public void revisionsGrowAndNeverFallBelowTheClock() {
        AtomicLong clock = new AtomicLong(1_000);
        Revisions revisions = new Revisions(clock::get);

        assertEquals(1_001, revisions.next());
        assertEquals(1_002, revisions.next());
        clock.set(5_000);
        assertEquals(5_000, revisions.next());
        clock.set(10);
        assertEquals("a clock stepping back does not take revisions back", 5_001, revisions.next());

        // A successor started later starts above what this one handed out.
        clock.set(6_000);
        assertTrue(new Revisions(clock::get).next() > 5_001);
    }
}
