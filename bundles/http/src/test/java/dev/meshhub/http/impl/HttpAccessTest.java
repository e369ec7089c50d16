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
}
