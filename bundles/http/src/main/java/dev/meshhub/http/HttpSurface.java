package dev.meshhub.http;

import jakarta.servlet.http.HttpServletResponse;

/** Constants and the page headers shared by every servlet on meshhub's HTTP surface. */
public final class HttpSurface {

    /** The servlet context's name. */
    public static final String CONTEXT_NAME = "dev.meshhub";
    /** The value of {@code osgi.http.whiteboard.context.select} that puts a servlet in meshhub's context. */
    public static final String CONTEXT_SELECT = "(osgi.http.whiteboard.context.name=" + CONTEXT_NAME + ")";
    /** Request attribute: the console session's CSRF token (absent for token-authenticated or open requests). */
    public static final String CSRF_ATTRIBUTE = "dev.meshhub.http.csrf";
    /** The header a page sends that token back in, on every POST. */
    public static final String CSRF_HEADER = "X-CSRF-Token";

    private HttpSurface() {
    }

    /** Headers every meshhub page carries: no framing, no sniffing, scripts and styles from this hub only, no caching. */
    public static void pageHeaders(HttpServletResponse response) {
        response.setHeader("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
                + " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
        response.setHeader("X-Frame-Options", "DENY");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "same-origin"); // no-referrer would make browsers send "Origin: null" on our own forms
        response.setHeader("Cache-Control", "no-store");
    }
}
