/**
 * The hub's health, as one report over every health check (Felix Health Checks) the bundles register:
 * what /system/health serves and {@code meshctl health} prints.
 */
@Version("1.0.0")
@Export
package dev.meshhub.api.health;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
