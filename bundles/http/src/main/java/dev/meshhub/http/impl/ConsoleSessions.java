package dev.meshhub.http.impl;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Browser sessions opened by signing in with the admin token: a random id (the cookie) and a random
 * CSRF token per session, both 256 bits, held in memory only (a hub restart signs everyone out). A
 * session ends after {@code idle} without a request, {@code lifetime} after it opened, or at sign-out;
 * at most {@code capacity} live at once (the least recently used goes first), so a console left open
 * or a script signing in in a loop cannot grow the hub's memory.
 */
final class ConsoleSessions {

    /** One signed-in browser. */
    static final class Session {
        private final String id;
        private final String csrf;
        private final Instant opened;
        private Instant lastSeen;

        private Session(String id, String csrf, Instant opened) {
            this.id = id;
            this.csrf = csrf;
            this.opened = opened;
            this.lastSeen = opened;
        }

        String id() {
            return id;
        }

        String csrf() {
            return csrf;
        }
    }

    private final SecureRandom random = new SecureRandom();
    private final Clock clock;
    private final Duration idle;
    private final Duration lifetime;
    private final int capacity;
    /** In access order: the eldest entry is the least recently used. */
    private final LinkedHashMap<String, Session> sessions = new LinkedHashMap<>(16, 0.75f, true);

    ConsoleSessions(Clock clock, Duration idle, Duration lifetime, int capacity) {
        this.clock = clock;
        this.idle = idle;
        this.lifetime = lifetime;
        this.capacity = capacity;
    }

    /** A new session (the caller proved the admin token). */
    synchronized Session open() {
        Instant now = clock.instant();
        expire(now);
        while (sessions.size() >= capacity) {
            Iterator<Map.Entry<String, Session>> eldest = sessions.entrySet().iterator();
            eldest.next();
            eldest.remove();
        }
        Session session = new Session(secret(), secret(), now);
        sessions.put(session.id, session);
        return session;
    }

    /** The live session with this id, marked as seen now; empty for an unknown, expired or malformed id. */
    synchronized Optional<Session> find(String id) {
        if (id == null || id.length() != 43) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        Session session = sessions.get(id);
        if (session == null) {
            return Optional.empty();
        }
        if (expired(session, now)) {
            sessions.remove(id);
            return Optional.empty();
        }
        session.lastSeen = now;
        return Optional.of(session);
    }

    /** Ends a session (sign-out). */
    synchronized void close(String id) {
        if (id != null) {
            sessions.remove(id);
        }
    }

    synchronized int size() {
        return sessions.size();
    }

    private void expire(Instant now) {
        sessions.values().removeIf(session -> expired(session, now));
    }

    private boolean expired(Session session, Instant now) {
        return !session.lastSeen.plus(idle).isAfter(now) || !session.opened.plus(lifetime).isAfter(now);
    }

    private String secret() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
