/**
 * Mesh monitoring: snapshots of the mesh's state, offered by a replaceable monitor bundle.
 */
@Version("2.1.0")
@Export
package dev.meshhub.api.monitor;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
