package dev.meshhub.http.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.servlet.context.ServletContextHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.admin.AdminCredentials;
import dev.meshhub.http.HttpSurface;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The servlet context every meshhub servlet registers under ({@code osgi.http.whiteboard.context.select =
 * (osgi.http.whiteboard.context.name=dev.meshhub)}), at the root path. It lets a request through only
 * as {@link HttpAccess} decides; a refusal is a plain-text status that says what to do, and a browser
 * without credentials is sent to sign in. It owns the console sessions and registers {@code /login}
 * and {@code /logout} ({@link LoginServlet}). The admin credential is an optional, dynamic reference:
 * while the admin API bundle is away, requests that need it get 503, and the open paths keep answering.
 *
 * <p>A request it lets through carries the request attributes {@value HttpSurface#CSRF_ATTRIBUTE} (the session's
 * CSRF token, for pages that post) and {@code REMOTE_USER} ({@code console} or {@code admin-token}).
 */
@Component(service = ServletContextHelper.class, configurationPid = HttpConfiguration.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = {"osgi.http.whiteboard.context.name=" + HttpSurface.CONTEXT_NAME, "osgi.http.whiteboard.context.path=/"})
@Designate(ocd = HttpConfiguration.class)
public final class HubServletContext extends ServletContextHelper {


    private static final Logger LOG = LoggerFactory.getLogger(HubServletContext.class);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile AdminCredentials credentials;

    /** Nothing open until the configuration (or its defaults) arrives in {@link #configure}. */
    private volatile HttpAccess access = new HttpAccess(List.of());
    private final ConsoleSessions sessions = new ConsoleSessions(Clock.systemUTC(), Duration.ofMinutes(30), Duration.ofHours(12), 64);
    private ServiceRegistration<Servlet> login;

    @Activate
    void activate(BundleContext context, HttpConfiguration config) {
        configure(config);
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("osgi.http.whiteboard.servlet.pattern", new String[] {HttpAccess.LOGIN, "/logout"});
        properties.put("osgi.http.whiteboard.servlet.name", "meshhub-login");
        properties.put("osgi.http.whiteboard.context.select", HttpSurface.CONTEXT_SELECT);
        login = context.registerService(Servlet.class, new LoginServlet(sessions, () -> credentials), properties);
    }

    @Deactivate
    void deactivate() {
        if (login != null) {
            login.unregister();
        }
    }

    @Modified
    void configure(HttpConfiguration config) {
        // a .cfg gives "a, b" as one string: split on commas, as the other meshhub lists are
        access = new HttpAccess(Arrays.stream(config.openOnLoopback()).flatMap(value -> Arrays.stream(value.split(",")))
                .map(String::trim).filter(path -> !path.isEmpty()).toList());
        LOG.info("meshhub HTTP context: open on loopback without a token: {}; everything else needs the admin token or a"
                + " console session (sign in at {})", access.openPaths().isEmpty() ? "nothing" : access.openPaths(), HttpAccess.LOGIN);
    }

    @Override
    public boolean handleSecurity(HttpServletRequest request, HttpServletResponse response) throws IOException {
        ConsoleSessions.Session session = sessions.find(sessionCookie(request)).orElse(null);
        String accept = request.getHeader("Accept");
        HttpAccess.Request read = new HttpAccess.Request(request.getMethod(), path(request), request.getRemoteAddr(),
                request.getLocalAddr(), request.isSecure(), request.getHeader("Authorization"), session,
                request.getHeader(HttpAccess.CSRF_HEADER), request.getHeader("Origin"), ownOrigin(request),
                accept != null && accept.contains("text/html"));
        HttpAccess.Decision decision = access.decide(read, credentials);
        if (decision.allowed()) {
            boolean bearer = request.getHeader("Authorization") != null;
            if (session != null && !bearer) {
                request.setAttribute(HttpSurface.CSRF_ATTRIBUTE, session.csrf());
                request.setAttribute(REMOTE_USER, "console");
                request.setAttribute(AUTHENTICATION_TYPE, "FORM");
            } else if (bearer) {
                request.setAttribute(REMOTE_USER, "admin-token");
                request.setAttribute(AUTHENTICATION_TYPE, "Bearer");
            }
            return true;
        }
        LOG.debug("HTTP {} {} from {} refused: {} {}", request.getMethod(), path(request), request.getRemoteAddr(),
                decision.status(), decision.message());
        response.setHeader("Cache-Control", "no-store");
        if (decision.status() == 303) {
            response.setStatus(303);
            response.setHeader("Location", decision.message());
            return false;
        }
        response.setStatus(decision.status());
        if (decision.status() == 401) {
            response.setHeader("WWW-Authenticate", HttpAccess.CHALLENGE);
        }
        response.setContentType("text/plain;charset=utf-8");
        response.getOutputStream().write((decision.message() + "\n").getBytes(StandardCharsets.UTF_8));
        return false;
    }

    /** The session cookie's value, or null. */
    static String sessionCookie(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies != null) {
            for (Cookie cookie : cookies) {
                if (HttpAccess.SESSION_COOKIE.equals(cookie.getName())) {
                    return cookie.getValue();
                }
            }
        }
        return null;
    }

    /** This hub's origin as the request reached it: {@code scheme://host:port}, from the connection, not the headers. */
    static String ownOrigin(HttpServletRequest request) {
        String host = request.getServerName();
        if (host.contains(":") && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        return request.getScheme() + "://" + host + ":" + request.getServerPort();
    }

    /** The path inside this context (the context sits at the root), never null. */
    private static String path(HttpServletRequest request) {
        String servletPath = request.getServletPath() == null ? "" : request.getServletPath();
        String pathInfo = request.getPathInfo() == null ? "" : request.getPathInfo();
        String path = servletPath + pathInfo;
        return path.isEmpty() ? "/" : path;
    }
}
