package dev.meshhub.http.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of meshhub's servlet context (PID {@value #PID}). Where Jetty listens is Felix HTTP
 * Jetty's own configuration, {@code etc/org.apache.felix.http.cfg}.
 */
@ObjectClassDefinition(id = HttpConfiguration.PID, name = "meshhub HTTP access",
        description = "Who may call the hub's HTTP surface (/metrics, /system/health, the console). A plaintext listener"
                + " beyond loopback serves nothing; everything but the open paths from loopback needs the admin token.")
public @interface HttpConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.http";

    @AttributeDefinition(name = "Open on loopback", description = "Paths that GET and HEAD from loopback may read without"
            + " the admin token (exact paths, or prefixes ending in '/'). Empty: every request needs the token.")
    String[] openOnLoopback() default {"/metrics", "/system/health"};
}
