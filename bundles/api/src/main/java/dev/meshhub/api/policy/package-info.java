/**
 * The sandbox policy nodes run under, and the admin act that changes it.
 */
@Version("1.1.0")
@Export
package dev.meshhub.api.policy;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
