package dev.meshhub.api.health;

import org.osgi.annotation.versioning.ProviderType;

/** Runs the hub's health checks: every one registered, each within the executor's time limit. */
@ProviderType
public interface HubHealth {

    /** Runs every health check now (results a few seconds old may be reused) and reports them. */
    HealthReport check();
}
