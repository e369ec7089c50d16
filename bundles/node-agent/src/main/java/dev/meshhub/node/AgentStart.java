package dev.meshhub.node;

import dev.meshhub.proto.v1.NodeInfo;
import java.io.IOException;
import java.net.InetAddress;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * What the agent starts from, checked before anything is sent: the identity stored in the workspace,
 * or else a well-formed invite token (and name) to enroll with; and what the node says about itself.
 *
 * @param stored  the stored identity, or null when the node is to enroll
 * @param refusal why the agent cannot start (it exits with it), or null
 */
record AgentStart(NodeIdentity stored, AgentExit refusal) {

    private static final Logger LOG = Logger.getLogger(AgentStart.class.getName());

    /**
     * Makes the workspace, moves an older agent's state out of it, and removes the temporaries of
     * pushes a previous run did not finish.
     *
     * @return null when ready, else why the agent cannot start
     */
    static AgentExit prepareDirectories(NodeAgentConfig config) {
        try {
            java.nio.file.Files.createDirectories(config.workspace());
        } catch (java.io.IOException e) {
            return new AgentExit(AgentExit.FAILED, "cannot create the workspace " + config.workspace() + ": " + e);
        }
        try {
            StateDirectory.adoptLegacy(config.workspace(), config.stateDirectory());
        } catch (java.io.IOException e) {
            return new AgentExit(AgentExit.FAILED, e.getMessage());
        }
        int swept = DownloadTemps.sweep(config.stateDirectory(), config.workspace());
        if (swept > 0) {
            LOG.info("removed " + swept + " temporary file(s) of pushes a previous run did not finish");
        }
        return null;
    }

    static AgentStart check(NodeAgentConfig config, CredentialStore store) {
        Optional<NodeIdentity> stored;
        try {
            stored = store.load();
        } catch (IOException e) {
            return refused(e.getMessage());
        }
        String token = config.inviteToken();
        if (stored.isPresent()) {
            NodeIdentity identity = stored.get();
            if (token != null) {
                LOG.warning("a credential is already stored in " + store.directory() + "; ignoring the invite token"
                        + " (delete that directory to enroll again)");
            }
            if (config.nodeName() != null && !config.nodeName().equals(identity.name())) {
                LOG.warning("--name is only used at enrollment; this node is enrolled as " + identity.describe());
            }
            LOG.info("using the stored " + (identity.credential().isEmpty() ? "certificate" : "credential") + " of "
                    + identity.describe() + " from " + store.directory());
            return new AgentStart(identity, null);
        }
        if (token == null) {
            return refused("no credential in " + store.directory() + " and no invite token; start once with --token <invite token>"
                    + " (an admin creates one with 'meshctl invite create')");
        }
        if (!NodeAgent.INVITE_TOKEN_SHAPE.matcher(token).matches()) {
            return refused("the invite token is malformed (expected mhi.<16 hex digits>.<43 characters>); copy it again from"
                    + " 'meshctl invite create'");
        }
        if (config.nodeName() != null && !NodeAgent.NODE_NAME_SHAPE.matcher(config.nodeName()).matches()) {
            return refused("invalid --name '" + config.nodeName() + "': use letters, digits, '.', '_' or '-', at most 63 characters");
        }
        return new AgentStart(null, null);
    }

    private static AgentStart refused(String message) {
        return new AgentStart(null, new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED, message));
    }

    /** What this node says about itself in its handshake (informational; the hub trusts none of it). */
    static NodeInfo nodeInfo(String agentVersion) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException | RuntimeException e) {
            host = System.getenv().getOrDefault("HOSTNAME", System.getenv().getOrDefault("COMPUTERNAME", "unknown"));
        }
        String os = System.getProperty("os.name", "unknown") + " " + System.getProperty("os.version", "")
                + " (" + System.getProperty("os.arch", "") + ")";
        return NodeInfo.newBuilder().setHostname(host).setOs(os).setAgentVersion(agentVersion).build();
    }
}
