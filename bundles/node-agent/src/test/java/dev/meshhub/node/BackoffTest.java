package dev.meshhub.node;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.Test;

public class BackoffTest {

    private static Backoff backoff(double fixed) {
        return new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), () -> fixed);
    }

    @Test
    public void windowDoublesFromBaseUntilCap() {
        Backoff b = backoff(0.5);
        long[] expected = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
        for (int i = 0; i < expected.length; i++) {
            assertEquals("ceiling of attempt " + i, expected[i], b.ceilingMillis(i));
        }
        assertEquals(30000, b.ceilingMillis(61));
        assertEquals(30000, b.ceilingMillis(1000));
        assertEquals(30000, b.ceilingMillis(Integer.MAX_VALUE));
    }

    @Test
    public void delaysStayWithinZeroAndTheWindow() {
        Backoff b = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), new Random(1)::nextDouble);
        for (int i = 0; i < 200; i++) {
            long ceiling = b.ceilingMillis(b.attempts());
            long d = b.nextDelay().toMillis();
            assertTrue(d + " not in [0, " + ceiling + "]", d >= 0 && d <= ceiling);
        }
    }

    @Test
    public void extremesOfTheRandomSourceHitTheBounds() {
        Backoff low = backoff(0.0);
        Backoff high = backoff(Math.nextDown(1.0));
        long[] highs = new long[8];
        for (int i = 0; i < 8; i++) {
            assertEquals(0, low.nextDelay().toMillis());
            highs[i] = high.nextDelay().toMillis();
        }
        assertEquals(500, highs[0]);
        assertEquals(1000, highs[1]);
        assertEquals(16000, highs[5]);
        assertEquals("capped", 30000, highs[6]);
        assertEquals("capped", 30000, highs[7]);
    }

    @Test
    public void brokenRandomSourceCannotProduceOutOfRangeDelays() {
        assertEquals(0, backoff(Double.NaN).nextDelay().toMillis());
        assertEquals(0, backoff(-3).nextDelay().toMillis());
        assertEquals(0, backoff(1.0).nextDelay().toMillis());
    }

    @Test
    public void fullJitterSpreadsDelays() {
        Set<Long> seen = new HashSet<>();
        Random r = new Random(3);
        for (int i = 0; i < 50; i++) {
            Backoff b = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), r::nextDouble);
            seen.add(b.nextDelay().toMillis());
        }
        assertTrue("50 first delays should not collapse onto a few values: " + seen, seen.size() > 25);
    }

    @Test
    public void resetStartsOverAtTheBaseWindow() {
        Backoff b = backoff(Math.nextDown(1.0));
        for (int i = 0; i < 10; i++) {
            b.nextDelay();
        }
        assertEquals(10, b.attempts());
        assertEquals(30000, b.nextDelay().toMillis());
        b.reset();
        assertEquals(0, b.attempts());
        assertEquals(500, b.nextDelay().toMillis());
        assertEquals(1000, b.nextDelay().toMillis());
    }

    @Test(expected = IllegalArgumentException.class)
    public void capBelowBaseIsRejected() {
        new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), () -> 0.5);
    }

    @Test(expected = IllegalArgumentException.class)
    public void zeroBaseIsRejected() {
        new Backoff(Duration.ZERO, Duration.ofSeconds(1), () -> 0.5);
    }
}
