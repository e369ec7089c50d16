package dev.meshhub.policy.impl;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.meshhub.api.policy.SandboxMode;

/**
 * One node's sandbox settings, read from a valid {@link NodePolicyConfiguration}.
 *
 * @param pid                the configuration's PID (the audit actor is {@code config:<pid>})
 * @param origin             where it came from, for logs: the file FileInstall read it from, else the PID
 * @param node               the node's id: what the setting is bound to (a name alone is never matched)
 * @param mode               the mode the configuration asks for
 * @param allowedExecutables this node's own allowlist, or null for the default one
 */
record NodeSetting(String pid, String origin, String node, SandboxMode mode, List<String> allowedExecutables) {

    /** The shape of the ids the journal gives nodes. */
    private static final java.util.regex.Pattern NODE_ID = java.util.regex.Pattern.compile("n-[0-9a-f]{12}");
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NodeSetting.class);

    /** The property FileInstall adds to a configuration it read from a file. */
    static final String FILEINSTALL_FILENAME = "felix.fileinstall.filename";

    NodeSetting {
        allowedExecutables = allowedExecutables == null ? null : List.copyOf(allowedExecutables);
    }

    /**
     * Reads a per-node configuration.
     *
     * @param pid        its PID
     * @param config     its typed view
     * @param properties its raw properties, to tell an absent allowlist from an empty one and to find the file
     * @throws IllegalArgumentException saying why the configuration cannot be used
     */
    static NodeSetting read(String pid, NodePolicyConfiguration config, Map<String, ?> properties) {
        String origin = origin(pid, properties);
        String node = config.node() == null ? "" : config.node().trim();
        if (node.isEmpty()) {
            throw new IllegalArgumentException("'node' is empty; name the node by its id (meshctl nodes shows it)");
        }
        String nodeId = config.nodeId() == null ? "" : config.nodeId().trim();
        if (!nodeId.isEmpty()) {
            node = nodeId;
        } else if (!NODE_ID.matcher(node).matches()) {
            LOG.warn("{}: node = {} is matched as a node id only; if it is a name, add nodeId = <the node's id> (meshctl"
                    + " nodes shows it): a name is chosen by the node itself, so it never selects a setting alone", origin(pid,
                    properties), shorten(node));
        }
        String modeValue = config.mode() == null ? "" : config.mode().trim();
        SandboxMode mode;
        try {
            mode = SandboxMode.valueOf(modeValue.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'mode' is '" + shorten(modeValue) + "'; use STRICT or PERMISSIVE", e);
        }
        if (mode == SandboxMode.PERMISSIVE && !config.confirm()) {
            throw new IllegalArgumentException("mode PERMISSIVE lets node " + node
                    + " run shell commands; add confirm=true to grant it");
        }
        List<String> allowed = properties.containsKey(NodePolicyConfiguration.ALLOWED_EXECUTABLES)
                ? Allowlist.parse(NodePolicyConfiguration.ALLOWED_EXECUTABLES, config.allowedExecutables())
                : null;
        return new NodeSetting(pid, origin, node, mode, allowed);
    }

    /** The file a configuration came from when FileInstall read it, else its PID. */
    static String origin(String pid, Map<String, ?> properties) {
        Object file = properties.get(FILEINSTALL_FILENAME);
        return file == null ? String.valueOf(pid) : file + " (" + pid + ")";
    }

    private static String shorten(String value) {
        return value.length() <= 40 ? value : value.substring(0, 40) + "...";
    }
}
