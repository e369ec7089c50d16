package dev.meshhub.http.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
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
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The servlet context every meshhub servlet registers under ({@code osgi.http.whiteboard.context.select =
 * (osgi.http.whiteboard.context.name=dev.meshhub)}), at the root path. It lets a request through only
 * as {@link HttpAccess} decides; a refusal is a plain-text status that says what to do. The admin
 * credential is an optional, dynamic reference: while the admin API bundle is away, requests that
 * need it get 503, and the open paths keep answering.
 */
@Component(service = ServletContextHelper.class, configurationPid = HttpConfiguration.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = {"osgi.http.whiteboard.context.name=" + HubServletContext.NAME, "osgi.http.whiteboard.context.path=/"})
@Designate(ocd = HttpConfiguration.class)
public final class HubServletContext extends ServletContextHelper {

    /** The context's name, for {@code osgi.http.whiteboard.context.select}. */
    public static final String NAME = "dev.meshhub";

    private static final Logger LOG = LoggerFactory.getLogger(HubServletContext.class);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile AdminCredentials credentials;

    /** Nothing open until the configuration (or its defaults) arrives in {@link #configure}. */
    private volatile HttpAccess access = new HttpAccess(java.util.List.of());

    @Activate
    @Modified
    void configure(HttpConfiguration config) {
        // a .cfg gives "a, b" as one string: split on commas, as the other meshhub lists are
        access = new HttpAccess(Arrays.stream(config.openOnLoopback()).flatMap(value -> Arrays.stream(value.split(",")))
                .map(String::trim).filter(path -> !path.isEmpty()).toList());
        LOG.info("meshhub HTTP context: open on loopback without a token: {}; everything else needs the admin token",
                access.openPaths().isEmpty() ? "nothing" : access.openPaths());
    }

    @Override
    public boolean handleSecurity(HttpServletRequest request, HttpServletResponse response) throws IOException {
        HttpAccess.Decision decision = access.decide(new HttpAccess.Request(request.getMethod(), path(request),
                request.getRemoteAddr(), request.getLocalAddr(), request.isSecure(), request.getHeader("Authorization")),
                credentials);
        if (decision.allowed()) {
            return true;
        }
        LOG.debug("HTTP {} {} from {} refused: {} {}", request.getMethod(), path(request), request.getRemoteAddr(),
                decision.status(), decision.message());
        response.setStatus(decision.status());
        if (decision.status() == 401) {
            response.setHeader("WWW-Authenticate", HttpAccess.CHALLENGE);
        }
        response.setHeader("Cache-Control", "no-store");
        response.setContentType("text/plain;charset=utf-8");
        response.getOutputStream().write((decision.message() + "\n").getBytes(StandardCharsets.UTF_8));
        return false;
    }

    /** The path inside this context (the context sits at the root), never null. */
    private static String path(HttpServletRequest request) {
        String servletPath = request.getServletPath() == null ? "" : request.getServletPath();
        String pathInfo = request.getPathInfo() == null ? "" : request.getPathInfo();
        String path = servletPath + pathInfo;
        return path.isEmpty() ? "/" : path;
    }
}
