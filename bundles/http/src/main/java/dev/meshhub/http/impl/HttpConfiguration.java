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

    @AttributeDefinition(name = "HTTPS keystore", description = "Where the hub keeps a PKCS#12 copy of its server key and"
            + " certificate (the node port's, from its own CA) for HTTPS, relative to the hub's home; written owner-only and"
            + " rewritten when the certificate is renewed. Point org.apache.felix.https.keystore at it.")
    String keystore() default "data/http/keystore.p12";

    @AttributeDefinition(name = "HTTPS keystore password", description = "The keystore's password (the file is owner-only,"
            + " as the PEM key it copies; the password only satisfies the PKCS#12 format).")
    String keystorePassword() default "meshhub";
}
