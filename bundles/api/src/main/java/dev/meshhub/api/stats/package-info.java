/**
 * Figures a bundle keeps about its own work (latencies, sizes), for front ends to publish (the metrics
 * bundle serves them as Prometheus histograms), so that no core bundle depends on a metrics library.
 */
@Version("1.0.0")
@Export
package dev.meshhub.api.stats;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
