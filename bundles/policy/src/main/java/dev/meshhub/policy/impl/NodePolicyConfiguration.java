package dev.meshhub.policy.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The sandbox settings of one node (factory PID {@value #FACTORY_PID}, one configuration per node:
 * {@code etc/dev.meshhub.policy.node-web1.cfg}). A configuration that is not valid is ignored, with a
 * WARN naming it and why, and its node stays STRICT.
 */
@ObjectClassDefinition(id = NodePolicyConfiguration.FACTORY_PID, name = "meshhub sandbox policy of one node",
        description = "Grants one node PERMISSIVE (with confirm=true) or gives it its own STRICT allowlist.")
public @interface NodePolicyConfiguration {

    /** The factory configuration PID. */
    String FACTORY_PID = "dev.meshhub.policy.node";
    /** The key of {@link #allowedExecutables()}: its presence matters, not only its value. */
    String ALLOWED_EXECUTABLES = "allowedExecutables";

    @AttributeDefinition(name = "Node", description = "The node's id (meshctl nodes shows it). A name is matched only"
            + " together with nodeId: a node chooses its own name at enrollment, so a name alone could hand this setting"
            + " to whichever node enrolls under it.")
    String node();

    @AttributeDefinition(name = "Node id", required = false, description = "The node's id, when node names it by its name;"
            + " the setting applies to this id only.")
    String nodeId() default "";

    @AttributeDefinition(name = "Mode", description = "STRICT or PERMISSIVE.")
    String mode() default "STRICT";

    @AttributeDefinition(name = "Confirm",
            description = "Must be true for PERMISSIVE: PERMISSIVE lets the node run shell commands.")
    boolean confirm() default false;

    @AttributeDefinition(name = "Allowed executables", required = false,
            description = "Replaces the default allowlist for this node (STRICT). Leave the key out to keep the"
                    + " default list; set it empty to allow nothing. In a .cfg file, separate entries with commas.")
    String[] allowedExecutables() default {};
}
