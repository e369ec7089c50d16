/**
 * Invite tokens, node enrollment and node credentials.
 */
@Version("1.2.0")
@Export
package dev.meshhub.api.enrollment;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
