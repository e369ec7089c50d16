/**
 * Taking a mesh snapshot and rendering it as JSON, shared by the monitor bundles. Private: not
 * exported; another monitor bundle copies it in at build time (bnd {@code -conditionalpackage}), so no
 * monitor depends on another at run time.
 */
package dev.meshhub.monitor.snapshot;
