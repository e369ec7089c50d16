/**
 * Management tasks: periodic hub housekeeping run by the scheduler bundle (whiteboard), and the
 * scheduler's view of them.
 */
@Version("1.0.0")
@Export
package dev.meshhub.api.management;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
