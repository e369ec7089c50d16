/**
 * The audit trail of admin acts.
 */
@Version("1.1.0")
@Export
package dev.meshhub.api.audit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
