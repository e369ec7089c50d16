package dev.meshhub.transport.impl.rpc;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;

import org.junit.Test;
import dev.meshhub.testing.MutableClock;

public class EnrollmentRateLimiterTest {

    private final MutableClock clock = new MutableClock();
    private final EnrollmentRateLimiter limiter = new EnrollmentRateLimiter(clock, 3);

    @Test
    public void aHostOverItsLimitWaitsForTheRestOfItsWindow() {
        for (int i = 0; i < 3; i++) {
            assertEquals(Duration.ZERO, limiter.retryAfter("10.0.0.1"));
            limiter.failed("10.0.0.1");
        }
        assertEquals(Duration.ofMinutes(1), limiter.retryAfter("10.0.0.1"));
        assertEquals("other hosts are unaffected", Duration.ZERO, limiter.retryAfter("10.0.0.2"));

        clock.advance(Duration.ofSeconds(45));
        assertEquals(Duration.ofSeconds(15), limiter.retryAfter("10.0.0.1"));
        clock.advance(Duration.ofSeconds(15));
        assertEquals(Duration.ZERO, limiter.retryAfter("10.0.0.1"));
        limiter.failed("10.0.0.1");
        assertEquals("a new window starts counting from one", Duration.ZERO, limiter.retryAfter("10.0.0.1"));
    }

    @Test
    public void memoryStaysBoundedUnderManyAddresses() {
        for (int i = 0; i < EnrollmentRateLimiter.MAX_TRACKED_HOSTS * 3; i++) {
            limiter.failed("host-" + i);
        }
        assertTrue(limiter.trackedHosts() <= EnrollmentRateLimiter.MAX_TRACKED_HOSTS);
    }

    @Test
    public void aFloodOfNewAddressesNeverFreesTheHostsItRefuses() {
        for (int i = 0; i < 3; i++) {
            limiter.failed("10.6.6.6");
        }
        assertEquals(Duration.ofMinutes(1), limiter.retryAfter("10.6.6.6"));
        for (int i = 0; i < EnrollmentRateLimiter.MAX_TRACKED_HOSTS * 3; i++) {
            limiter.failed("flood-" + i);
            assertTrue(limiter.trackedHosts() <= EnrollmentRateLimiter.MAX_TRACKED_HOSTS);
        }
        assertEquals("still refused after 30,000 other addresses", Duration.ofMinutes(1), limiter.retryAfter("10.6.6.6"));
        assertTrue("it forgets a tenth at a time, not everyone", limiter.trackedHosts() >= EnrollmentRateLimiter.MAX_TRACKED_HOSTS * 9 / 10);
    }
}
