package dev.meshhub.policy.impl;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One per-node configuration ({@value NodePolicyConfiguration#FACTORY_PID} factory), offered to
 * {@link DefaultSandboxPolicy} as a small service of this bundle. It reads and checks its
 * configuration; one that cannot be used is logged at WARN and offers no setting, so its node
 * stays STRICT (a policy that cannot be read means STRICT).
 */
@Component(name = NodePolicyConfiguration.FACTORY_PID, configurationPid = NodePolicyConfiguration.FACTORY_PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, service = NodeSettingComponent.class, immediate = true)
@Designate(ocd = NodePolicyConfiguration.class, factory = true)
public final class NodeSettingComponent {

    private static final Logger LOG = LoggerFactory.getLogger(NodeSettingComponent.class);

    private volatile String pid;
    private volatile Optional<NodeSetting> setting = Optional.empty();

    @Activate
    void activate(NodePolicyConfiguration config, Map<String, ?> properties) {
        configure(config, properties);
    }

    /** Read again in place, so that the policy sees an update (and a PERMISSIVE that stays is not audited again). */
    @Modified
    void modified(NodePolicyConfiguration config, Map<String, ?> properties) {
        configure(config, properties);
    }

    private void configure(NodePolicyConfiguration config, Map<String, ?> properties) {
        String id = String.valueOf(properties.get(Constants.SERVICE_PID));
        Optional<NodeSetting> read;
        try {
            NodeSetting next = NodeSetting.read(id, config, properties);
            read = Optional.of(next);
            LOG.info("per-node sandbox setting {}: node {} {}{}", next.origin(), next.node(), next.mode(),
                    next.allowedExecutables() == null ? "" : " with its own allowlist " + next.allowedExecutables());
            Allowlist.launchers(next.allowedExecutables() == null ? List.of() : next.allowedExecutables())
                    .forEach(launcher -> LOG.warn("{}: the allowlist of node {} names '{}', which can run other programs;"
                            + " STRICT is then little more than a name", next.origin(), next.node(), launcher));
        } catch (IllegalArgumentException e) {
            read = Optional.empty();
            LOG.warn("ignoring per-node sandbox configuration {}: {}; its node stays STRICT",
                    NodeSetting.origin(id, properties), e.getMessage());
        }
        pid = id;
        setting = read;
    }

    /** The configuration's PID. */
    String pid() {
        return pid;
    }

    /** The setting, or empty when the configuration was not valid (and was logged). */
    Optional<NodeSetting> setting() {
        return setting;
    }
}
