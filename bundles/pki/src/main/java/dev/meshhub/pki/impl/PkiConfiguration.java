package dev.meshhub.pki.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the hub's PKI (PID {@value #PID}); see docs/trust.md. */
@ObjectClassDefinition(id = PkiConfiguration.PID, name = "meshhub PKI",
        description = "The hub's CA (generated on first start), the node port's certificate and node certificates.")
public @interface PkiConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.pki";
    String DEFAULT_DIRECTORY = "data/pki";

    @AttributeDefinition(name = "PKI directory",
            description = "Where the CA, the server certificate and the trust bundle are kept (owner-only). A relative"
                    + " path is resolved against the framework property meshhub.home, or the working directory if that"
                    + " is not set. Back it up: every enrolled node trusts the CA in it.")
    String directory() default DEFAULT_DIRECTORY;

    @AttributeDefinition(name = "Advertised names", required = false,
            description = "DNS names and IP addresses the node port's certificate lists (comma-separated). Empty: this"
                    + " machine's host name and addresses. localhost, 127.0.0.1 and ::1 are always added.")
    String[] advertisedNames() default {};

    @AttributeDefinition(name = "Server certificate lifetime (days)", min = "2", max = "397",
            description = "How long the node port's certificate is valid; it is renewed in place at two thirds.")
    int serverCertificateDays() default 90;

    @AttributeDefinition(name = "Node certificate lifetime (days)", min = "1", max = "397",
            description = "How long a node's certificate is valid; nodes renew at two thirds over their open stream.")
    int nodeCertificateDays() default 7;

    @AttributeDefinition(name = "CA retirement grace (hours)", min = "0", max = "9528",
            description = "During a CA rotation (meshctl ca rotate) the old CA is retired as soon as every enrolled node"
                    + " holds a certificate of the new one, and at the latest this long after the rotation began. 0: the"
                    + " node certificate lifetime, after which no certificate of the old CA can still be valid.")
    int caRetireGraceHours() default 0;
}
