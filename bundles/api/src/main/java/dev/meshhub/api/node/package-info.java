/**
 * The live directory of connected nodes and the events posted when nodes come and go.
 */
@Version("1.4.0")
@Export
package dev.meshhub.api.node;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
