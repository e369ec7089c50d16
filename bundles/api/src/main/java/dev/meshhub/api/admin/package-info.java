/**
 * The admin credential: what other front ends (the HTTP console, metrics, health) check a presented
 * admin token against, so that one token file serves the admin API and every web surface.
 */
@Version("1.0.0")
@Export
package dev.meshhub.api.admin;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
