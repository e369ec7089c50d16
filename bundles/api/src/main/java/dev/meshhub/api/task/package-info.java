/**
 * Work for nodes: dispatching tasks, their durable journal, their states and results.
 */
@Version("1.7.0")
@Export
package dev.meshhub.api.task;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
