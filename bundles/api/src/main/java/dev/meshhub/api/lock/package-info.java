/**
 * IO locks with owners, deterministic release and an expiry backstop.
 */
@Version("1.0.0")
@Export
package dev.meshhub.api.lock;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
