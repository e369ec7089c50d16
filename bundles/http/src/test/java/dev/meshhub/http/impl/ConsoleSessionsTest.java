package dev.meshhub.http.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.Test;

public class ConsoleSessionsTest {

    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-05T10:00:00Z"));
    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };
    private final ConsoleSessions sessions = new ConsoleSessions(clock, Duration.ofMinutes(30), Duration.ofHours(12), 3);

    @Test
    public void sessionsAreRandomAndEndWhenIdleOrOld() {
        ConsoleSessions.Session one = sessions.open();
        ConsoleSessions.Session two = sessions.open();
        assertNotEquals(one.id(), two.id());
        assertNotEquals(one.id(), one.csrf());
        assertEquals(43, one.id().length());
        now.set(now.get().plus(Duration.ofMinutes(29)));
        assertTrue(sessions.find(one.id()).isPresent());
        now.set(now.get().plus(Duration.ofMinutes(29)));
        assertTrue("seen 29 minutes ago", sessions.find(one.id()).isPresent());
        assertFalse("idle 58 minutes", sessions.find(two.id()).isPresent());
        for (int i = 0; i < 30; i++) {
            now.set(now.get().plus(Duration.ofMinutes(25)));
            sessions.find(one.id());
        }
        assertFalse("no session outlives its lifetime, however busy", sessions.find(one.id()).isPresent());
    }

    @Test
    public void capacityBoundsMemoryAndTheLeastRecentlyUsedGoesFirst() {
        ConsoleSessions.Session a = sessions.open();
        ConsoleSessions.Session b = sessions.open();
        ConsoleSessions.Session c = sessions.open();
        sessions.find(a.id());
        sessions.open();
        assertEquals(3, sessions.size());
        assertTrue(sessions.find(a.id()).isPresent());
        assertFalse("b was used least recently", sessions.find(b.id()).isPresent());
        assertTrue(sessions.find(c.id()).isPresent());
        for (int i = 0; i < 1000; i++) {
            sessions.open();
        }
        assertEquals(3, sessions.size());
    }

    @Test
    public void signOutAndMalformedIds() {
        ConsoleSessions.Session a = sessions.open();
        sessions.close(a.id());
        assertFalse(sessions.find(a.id()).isPresent());
        assertFalse(sessions.find(null).isPresent());
        assertFalse(sessions.find("short").isPresent());
        sessions.close(null);
    }

    @Test
    public void afterSignInOnlyPathsOnThisHub() {
        assertEquals("/console", LoginServlet.next(null));
        assertEquals("/console/tasks", LoginServlet.next("/console/tasks"));
        assertEquals("/console", LoginServlet.next("//evil.example/x"));
        assertEquals("/console", LoginServlet.next("https://evil.example"));
        assertEquals("/console", LoginServlet.next("/\\evil.example"));
        assertEquals("/console", LoginServlet.next("/login"));
        assertEquals("/console", LoginServlet.next("/a\r\nSet-Cookie: x"));
        assertEquals("&lt;script&gt;&quot;&#39;&amp;", LoginServlet.escape("<script>\"'&"));
    }
}
