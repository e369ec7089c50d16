package dev.meshhub.config.env.impl;

import java.util.Dictionary;
import java.util.Map;

import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationPlugin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets {@code MESHHUB_*} environment variables override the configuration ConfigAdmin delivers for
 * meshhub's PIDs, so the same runtime directory runs anywhere with settings from its environment
 * (12-factor). See {@link EnvironmentOverrides} for the naming rule. Only PIDs that have a
 * configuration (a {@code .cfg} in {@code etc/}) are processed; the runtime ships one for each.
 */
@Component(property = ConfigurationPlugin.CM_RANKING + ":Integer=500")
public class EnvironmentConfigurationPlugin implements ConfigurationPlugin {

    private static final Logger LOG = LoggerFactory.getLogger(EnvironmentConfigurationPlugin.class);

    private final EnvironmentOverrides overrides;

    /** The DS constructor: the process environment. */
    @Activate
    public EnvironmentConfigurationPlugin() {
        this(System.getenv());
    }

    EnvironmentConfigurationPlugin(Map<String, String> environment) {
        this.overrides = new EnvironmentOverrides(environment);
    }

    @Override
    public void modifyConfiguration(ServiceReference<?> reference, Dictionary<String, Object> properties) {
        Object pid = properties.get(Constants.SERVICE_PID);
        if (!(pid instanceof String)) {
            return;
        }
        Map<String, EnvironmentOverrides.Override> forPid = overrides.forPid((String) pid);
        forPid.forEach((key, override) -> {
            properties.put(key, override.value());
            // Values stay out of the log: some settings may be secrets.
            LOG.debug("{}: {} set from environment variable {}", pid, key, override.variable());
        });
        if (!forPid.isEmpty()) {
            LOG.info("{}: {} key(s) overridden from the environment: {}", pid, forPid.size(), forPid.keySet());
        }
    }
}
