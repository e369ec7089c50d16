package dev.meshhub.api.policy;

import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Changes a node's sandbox mode at run time: the explicit admin act the default policy accepts.
 * A policy service that takes no changes (for example one driven by a file) does not offer it.
 *
 * <p>A PERMISSIVE set this way lasts until the hub or the policy bundle restarts; after that the node
 * is STRICT again unless a configuration file says otherwise. Every change is audited.
 */
@ProviderType
public interface PolicyAdministration {

    /**
     * Sets a node's mode.
     *
     * @param nodeId    the node
     * @param nodeName  its name, for the record
     * @param mode      the new mode
     * @param confirmed must be true for PERMISSIVE
     * @param actor     who asks ("admin", "shell"), for the audit record
     * @return the node's new policy, once audited
     * @throws IllegalArgumentException for PERMISSIVE without confirmation
     */
    CompletionStage<NodePolicy> setMode(String nodeId, String nodeName, SandboxMode mode, boolean confirmed, String actor);
}
