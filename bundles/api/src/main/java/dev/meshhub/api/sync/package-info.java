/**
 * File transfers between nodes and the hub: pulls into the mirror, pushes to node workspaces.
 */
@Version("1.1.0")
@Export
package dev.meshhub.api.sync;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
