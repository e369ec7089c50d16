/**
 * Full output logs of tasks, kept on the hub's disk: written as the output arrives, read back whole
 * or followed while the task runs, truncated at caps the admin sets, and removed by retention.
 */
@Version("1.0.0")
@Export
package dev.meshhub.api.output;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
