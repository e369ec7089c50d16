package dev.meshhub.http.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.List;

import org.junit.Test;

import dev.meshhub.api.admin.AdminCredentials;

public class HttpAccessTest {

    private static final String TOKEN = "mha.the-admin-token-of-this-hub-0123456789";
    private static final AdminCredentials ADMIN = TOKEN::equals;
    private final HttpAccess access = new HttpAccess(List.of("/metrics", "/system/health", "/static/"));

    private static HttpAccess.Request get(String path, String remote, String local, boolean secure, String authorization) {
        return new HttpAccess.Request("GET", path, remote, local, secure, authorization);
    }

    @Test
    public void openPathsFromLoopbackNeedNoToken() {
        assertTrue(access.decide(get("/metrics", "127.0.0.1", "127.0.0.1", false, null), ADMIN).allowed());
        assertTrue(access.decide(get("/system/health", "::1", "0:0:0:0:0:0:0:1", false, null), ADMIN).allowed());
        assertTrue(access.decide(get("/static/app.js", "127.0.0.5", "127.0.0.1", false, null), ADMIN).allowed());
        assertTrue(access.decide(new HttpAccess.Request("HEAD", "/metrics", "127.0.0.1", "127.0.0.1", false, null), ADMIN).allowed());
    }

    @Test
    public void everythingElseNeedsTheAdminToken() {
        HttpAccess.Decision missing = access.decide(get("/console", "127.0.0.1", "127.0.0.1", false, null), ADMIN);
        assertEquals(401, missing.status());
        assertTrue(missing.message(), missing.message().contains("sign in at /login"));
        assertTrue(missing.message(), missing.message().contains("etc/admin.token"));
        HttpAccess.Decision post = access.decide(new HttpAccess.Request("POST", "/metrics", "127.0.0.1", "127.0.0.1", false, null), ADMIN);
        assertEquals("writes are never open", 401, post.status());
        assertEquals(401, access.decide(get("/metricsx", "127.0.0.1", "127.0.0.1", false, null), ADMIN).status());
        assertEquals("a path walking out of an open prefix is not open", 401,
                access.decide(get("/static/../console", "127.0.0.1", "127.0.0.1", false, null), ADMIN).status());
        assertTrue(access.decide(get("/console", "127.0.0.1", "127.0.0.1", false, "Bearer " + TOKEN), ADMIN).allowed());
        assertTrue("the scheme is case-insensitive", access.decide(get("/console", "127.0.0.1", "127.0.0.1", false,
                "bearer  " + TOKEN + " "), ADMIN).allowed());
    }

    @Test
    public void wrongTokensAndSchemesAreRefused() {
        HttpAccess.Decision wrong = access.decide(get("/console", "127.0.0.1", "127.0.0.1", false, "Bearer " + TOKEN + "x"), ADMIN);
        assertEquals(401, wrong.status());
        assertTrue(wrong.message(), wrong.message().startsWith("wrong admin token"));
        HttpAccess.Decision basic = access.decide(get("/console", "127.0.0.1", "127.0.0.1", false, "Basic YWRtaW46YWRtaW4="), ADMIN);
        assertEquals(401, basic.status());
        assertTrue(basic.message(), basic.message().contains("unsupported authorization scheme"));
        assertEquals(401, access.decide(get("/console", "127.0.0.1", "127.0.0.1", false, "Bearer "), ADMIN).status());
    }

    @Test
    public void remoteCallersNeedTheTokenEvenForOpenPaths() {
        assertEquals(401, access.decide(get("/metrics", "10.1.2.3", "10.1.2.1", true, null), ADMIN).status());
        assertTrue(access.decide(get("/metrics", "10.1.2.3", "10.1.2.1", true, "Bearer " + TOKEN), ADMIN).allowed());
        assertEquals("a loopback caller on a listener beyond loopback is not trusted without a token", 401,
                access.decide(get("/metrics", "127.0.0.1", "10.1.2.1", true, null), ADMIN).status());
    }

    @Test
    public void aPlaintextListenerBeyondLoopbackServesNothing() {
        HttpAccess.Decision refused = access.decide(get("/metrics", "10.1.2.3", "10.1.2.1", false, "Bearer " + TOKEN), ADMIN);
        assertEquals(403, refused.status());
        assertTrue(refused.message(), refused.message().contains("without TLS") && refused.message().contains("HTTPS"));
        assertEquals(403, access.decide(get("/metrics", "127.0.0.1", "0.0.0.0", false, null), ADMIN).status());
    }

    @Test
    public void withoutTheAdminBundleOpenPathsStillAnswer() {
        assertTrue(access.decide(get("/metrics", "127.0.0.1", "127.0.0.1", false, null), null).allowed());
        HttpAccess.Decision unavailable = access.decide(get("/console", "127.0.0.1", "127.0.0.1", false, "Bearer " + TOKEN), null);
        assertEquals(503, unavailable.status());
        assertTrue(unavailable.message(), unavailable.message().contains("admin API bundle"));
    }

    @Test
    public void namesAreNeverTakenForLoopback() {
        assertFalse(HttpAccess.isLoopback("localhost"));
        assertFalse(HttpAccess.isLoopback(null));
        assertFalse(HttpAccess.isLoopback(""));
        assertTrue(HttpAccess.isLoopback("[::1]"));
        assertTrue(HttpAccess.isLoopback("127.0.0.1"));
        assertFalse(HttpAccess.isLoopback("192.168.0.1"));
    }

    private static final java.time.Clock CLOCK = java.time.Clock.systemUTC();

    private static HttpAccess.Request browser(String method, String path, ConsoleSessions.Session session, String csrf, String origin) {
        return new HttpAccess.Request(method, path, "127.0.0.1", "127.0.0.1", false, null, session, csrf, origin,
                "http://127.0.0.1:7702", true);
    }

    @Test
    public void aBrowserWithoutASessionIsSentToSignIn() {
        HttpAccess.Decision redirect = access.decide(browser("GET", "/console", null, null, null), ADMIN);
        assertEquals(303, redirect.status());
        assertEquals("/login?next=%2Fconsole", redirect.message());
        assertTrue("signing in is always reachable", access.decide(browser("POST", "/login", null, null, "https://evil.example"), ADMIN)
                .allowed());
        assertEquals("a browser posting without a session gets no redirect", 401,
                access.decide(browser("POST", "/console/api/x", null, null, null), ADMIN).status());
    }

    @Test
    public void aSessionReadsFreelyAndChangesOnlyWithItsCsrfTokenFromThisOrigin() {
        ConsoleSessions.Session session = new ConsoleSessions(CLOCK, java.time.Duration.ofMinutes(5), java.time.Duration.ofHours(1), 4).open();
        assertTrue(access.decide(browser("GET", "/console/api/nodes", session, null, null), null).allowed());
        assertTrue(access.decide(browser("POST", "/console/api/nodes/n-1/revoke", session, session.csrf(), "http://127.0.0.1:7702"), null)
                .allowed());
        assertTrue("no Origin (some clients omit it): the CSRF token alone decides",
                access.decide(browser("POST", "/console/api/x", session, session.csrf(), null), null).allowed());
        HttpAccess.Decision noToken = access.decide(browser("POST", "/console/api/x", session, null, "http://127.0.0.1:7702"), null);
        assertEquals(403, noToken.status());
        assertTrue(noToken.message(), noToken.message().contains("X-CSRF-Token"));
        assertEquals(403, access.decide(browser("POST", "/console/api/x", session, session.csrf() + "x", null), null).status());
        HttpAccess.Decision forged = access.decide(browser("POST", "/console/api/x", session, session.csrf(), "https://evil.example"), null);
        assertEquals(403, forged.status());
        assertTrue(forged.message(), forged.message().contains("cross-site request refused"));
        assertEquals("a session never opens a plaintext listener beyond loopback", 403, access.decide(new HttpAccess.Request("GET",
                "/console", "10.0.0.2", "10.0.0.1", false, null, session, null, null, "http://10.0.0.1:7702", true), null).status());
    }
}
