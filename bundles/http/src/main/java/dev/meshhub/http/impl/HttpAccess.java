package dev.meshhub.http.impl;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;

import dev.meshhub.api.admin.AdminCredentials;

/**
 * Who may call the hub's HTTP surface: the decision alone, free of the servlet API.
 *
 * <ol>
 * <li>A request that reached a <em>plaintext</em> listener on an address beyond loopback is refused,
 * whatever it carries: a token sent there crossed the network in the clear. HTTPS (or a loopback bind) is
 * the fix, and the refusal says so.</li>
 * <li>{@code GET}/{@code HEAD} of an open path (by default {@code /metrics} and {@code /system/health})
 * from loopback to a loopback listener needs no credential: what a local Prometheus or a local
 * health probe reads.</li>
 * <li>{@value #LOGIN} is always reachable: signing in is how a browser proves the token.</li>
 * <li>Everything else needs {@code Authorization: Bearer <admin token>}, the admin API's token,
 * compared by its owner ({@link AdminCredentials}) in constant time, or a console session (the cookie
 * {@value #SESSION_COOKIE}, from signing in). With a session, a request that changes anything must
 * carry the session's CSRF token in {@value #CSRF_HEADER} and, if it says where it comes from
 * ({@code Origin}), come from this hub's own origin: a page elsewhere can make the browser send the
 * cookie, never the header.</li>
 * </ol>
 * A browser without either is sent to {@value #LOGIN} rather than given a bare 401.
 */
final class HttpAccess {

    /** The scheme of the {@code Authorization} header meshhub accepts. */
    static final String BEARER = "Bearer ";
    /** What a 401 tells the client to send. */
    static final String CHALLENGE = "Bearer realm=\"meshhub\"";
    /** Where a browser signs in. */
    static final String LOGIN = "/login";
    /** The console session's cookie. */
    static final String SESSION_COOKIE = "meshhub_session";
    /** The header carrying a session's CSRF token on requests that change something. */
    static final String CSRF_HEADER = dev.meshhub.http.HttpSurface.CSRF_HEADER;

    /** A decision: {@code status} 0 lets the request through; otherwise the HTTP status and a message saying what to do. */
    record Decision(int status, String message) {
        static final Decision ALLOW = new Decision(0, "");

        boolean allowed() {
            return status == 0;
        }
    }

    /**
     * What the decision looks at, read from one request.
     *
     * @param session   the live console session its cookie names, or null
     * @param csrf      the {@value #CSRF_HEADER} header, or null
     * @param origin    the {@code Origin} header, or null
     * @param ownOrigin this hub's origin as the request reached it ({@code scheme://host:port})
     * @param wantsHtml whether the client is a browser asking for a page ({@code Accept} names text/html)
     */
    record Request(String method, String path, String remoteAddress, String localAddress, boolean secure, String authorization,
                   ConsoleSessions.Session session, String csrf, String origin, String ownOrigin, boolean wantsHtml) {

        /** A request without a session or browser headers (API clients, tests). */
        Request(String method, String path, String remoteAddress, String localAddress, boolean secure, String authorization) {
            this(method, path, remoteAddress, localAddress, secure, authorization, null, null, null, null, false);
        }
    }

    private final List<String> openPaths;

    /** @param openPaths paths readable from loopback without a credential (exact, or a prefix ending in '/') */
    HttpAccess(List<String> openPaths) {
        this.openPaths = List.copyOf(openPaths);
    }

    List<String> openPaths() {
        return openPaths;
    }

    /**
     * @param request     the request
     * @param credentials the admin credential's owner, or null while the admin API bundle is not running
     */
    Decision decide(Request request, AdminCredentials credentials) {
        boolean localListener = isLoopback(request.localAddress());
        if (!request.secure() && !localListener) {
            return new Decision(403, "this hub's HTTP port listens on " + request.localAddress() + " without TLS, and meshhub"
                    + " serves nothing there (credentials would cross the network in the clear): bind it to 127.0.0.1"
                    + " (org.apache.felix.http.host in etc/org.apache.felix.http.cfg) or enable HTTPS there");
        }
        if (LOGIN.equals(request.path())) {
            return Decision.ALLOW;
        }
        if (localListener && isLoopback(request.remoteAddress()) && isRead(request.method()) && isOpen(request.path())) {
            return Decision.ALLOW;
        }
        String authorization = request.authorization();
        if ((authorization == null || authorization.isBlank()) && request.session() != null) {
            return sessionDecision(request);
        }
        if (authorization == null || authorization.isBlank()) {
            if (request.wantsHtml() && isRead(request.method())) {
                return new Decision(303, LOGIN + "?next=" + java.net.URLEncoder.encode(request.path(),
                        java.nio.charset.StandardCharsets.UTF_8));
            }
            return new Decision(401, "missing admin token: send 'Authorization: Bearer <token>' with the admin token"
                    + " (etc/admin.token on the hub, the same one meshctl uses), or sign in at " + LOGIN);
        }
        if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return new Decision(401, "unsupported authorization scheme: send 'Authorization: Bearer <admin token>'");
        }
        if (credentials == null) {
            return new Decision(503, "the admin credential is not available (the admin API bundle is not running);"
                    + " start it and retry");
        }
        if (!credentials.accepts(authorization.substring(BEARER.length()).trim())) {
            return new Decision(401, "wrong admin token: use the token in etc/admin.token on the hub");
        }
        return Decision.ALLOW;
    }

    /** A request with a console session: reads pass; a change needs the session's CSRF token and this hub's origin. */
    private static Decision sessionDecision(Request request) {
        if (isRead(request.method())) {
            return Decision.ALLOW;
        }
        if (request.origin() != null && !request.origin().equalsIgnoreCase(request.ownOrigin())) {
            return new Decision(403, "cross-site request refused: it comes from " + request.origin() + ", not from this hub");
        }
        String expected = request.session().csrf();
        if (request.csrf() == null || !java.security.MessageDigest.isEqual(expected.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                request.csrf().getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            return new Decision(403, "missing or wrong " + CSRF_HEADER + ": reload the console page and retry");
        }
        return Decision.ALLOW;
    }

    static boolean isRead(String method) {
        String upper = method == null ? "" : method.toUpperCase(Locale.ROOT);
        return upper.equals("GET") || upper.equals("HEAD");
    }

    private boolean isOpen(String path) {
        if (path == null || path.contains("..") || path.contains("//")) {
            return false;
        }
        for (String open : openPaths) {
            if (path.equals(open) || (open.endsWith("/") && path.startsWith(open))) {
                return true;
            }
        }
        return false;
    }

    /** Whether a literal address (as the servlet API gives it, never a name) is a loopback one. */
    static boolean isLoopback(String address) {
        if (address == null || address.isEmpty()) {
            return false;
        }
        String literal = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1) : address;
        if (!literal.matches("[0-9a-fA-F:.%]+")) {
            return false; // a name: never resolved here, never trusted
        }
        try {
            return InetAddress.getByName(literal).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
