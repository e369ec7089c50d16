/**
 * The hub's mirror of node files: confined paths, resumable verified uploads, quota and disk reserve.
 */
@Version("1.1.0")
@Export
package dev.meshhub.api.mirror;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
