package dev.meshhub.policy.file.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the file-driven sandbox policy (PID {@value #PID}). */
@ObjectClassDefinition(id = FilePolicyConfiguration.PID, name = "meshhub sandbox policy from a file (example)",
        description = "Every node STRICT, with the allowlist a properties file gives it.")
public @interface FilePolicyConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.policy.file";
    String DEFAULT_FILE = "etc/node-allowlists.properties";

    @AttributeDefinition(name = "Allowlist file",
            description = "Lines '<node id> = exe1, exe2' (or 'name@id = ...'; a name alone is refused, since a node chooses its own name) and '* = ...' for every other node. A relative path"
                    + " is resolved against the framework property meshhub.home (else the working directory).")
    String file() default DEFAULT_FILE;
}
