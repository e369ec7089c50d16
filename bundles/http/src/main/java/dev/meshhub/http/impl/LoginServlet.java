package dev.meshhub.http.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.admin.AdminCredentials;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /login} and {@code /logout}: a browser signs in with the admin token (the same one meshctl
 * uses) and gets a session cookie ({@code HttpOnly}, {@code SameSite=Strict}, {@code Secure} over
 * HTTPS); signing out ends the session. A sign-in posted from another origin is refused, so no other
 * site can sign a browser in to this hub.
 */
final class LoginServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LoginServlet.class);
    static final String DEFAULT_NEXT = "/console";

    private final transient ConsoleSessions sessions;
    private final transient Supplier<AdminCredentials> credentials;

    LoginServlet(ConsoleSessions sessions, Supplier<AdminCredentials> credentials) {
        this.sessions = sessions;
        this.credentials = credentials;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if ("/logout".equals(request.getServletPath())) {
            response.sendError(405, "sign out with POST");
            return;
        }
        page(response, 200, next(request.getParameter("next")), null);
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if ("/logout".equals(request.getServletPath())) {
            sessions.close(HubServletContext.sessionCookie(request));
            response.addHeader("Set-Cookie", cookie("", 0, request.isSecure()));
            response.setStatus(303);
            response.setHeader("Location", HttpAccess.LOGIN);
            return;
        }
        String origin = request.getHeader("Origin");
        if (origin != null && !origin.equalsIgnoreCase(HubServletContext.ownOrigin(request))) {
            LOG.warn("console sign-in from {} refused: posted from another origin ({})", request.getRemoteAddr(), origin);
            page(response, 403, DEFAULT_NEXT, "This sign-in was posted from another site (" + origin + ") and is refused.");
            return;
        }
        String next = next(request.getParameter("next"));
        AdminCredentials current = credentials.get();
        if (current == null) {
            page(response, 503, next, "The admin API bundle is not running, so the admin token cannot be checked. Start it and retry.");
            return;
        }
        String token = request.getParameter("token");
        if (token == null || !current.accepts(token.trim())) {
            LOG.warn("console sign-in from {} refused: wrong admin token", request.getRemoteAddr());
            page(response, 401, next, "Wrong admin token. Use the token in etc/admin.token on the hub.");
            return;
        }
        ConsoleSessions.Session session = sessions.open();
        LOG.info("console sign-in from {}", request.getRemoteAddr());
        response.addHeader("Set-Cookie", cookie(session.id(), -1, request.isSecure()));
        response.setStatus(303);
        response.setHeader("Location", next);
    }

    /** Where to go after signing in: a path on this hub, never another site. */
    static String next(String asked) {
        if (asked == null || !asked.startsWith("/") || asked.startsWith("//") || asked.contains("\\") || asked.startsWith(HttpAccess.LOGIN)
                || asked.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
            return DEFAULT_NEXT;
        }
        return asked;
    }

    static String cookie(String value, int maxAge, boolean secure) {
        Cookie shape = new Cookie(HttpAccess.SESSION_COOKIE, value); // only to validate the name and value
        return shape.getName() + "=" + shape.getValue() + "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
                + (maxAge == 0 ? "; Max-Age=0" : "");
    }

    private static void page(HttpServletResponse response, int status, String next, String problem) throws IOException {
        response.setStatus(status);
        response.setContentType("text/html;charset=utf-8");
        dev.meshhub.http.HttpSurface.pageHeaders(response);
        String html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>meshhub: sign in</title>"
                + "<link rel=\"stylesheet\" href=\"/console/console.css\"></head><body class=\"login\"><main>"
                + "<h1>meshhub</h1><p>Sign in with the hub's admin token (<code>etc/admin.token</code> on the hub).</p>"
                + (problem == null ? "" : "<p class=\"problem\" role=\"alert\">" + escape(problem) + "</p>")
                + "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" value=\"" + escape(next) + "\">"
                + "<label>Admin token <input id=\"token\" type=\"password\" name=\"token\" autocomplete=\"off\" required autofocus></label>"
                + "<button id=\"sign-in\" type=\"submit\">Sign in</button></form></main></body></html>";
        response.getOutputStream().write(html.getBytes(StandardCharsets.UTF_8));
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
