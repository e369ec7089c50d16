/**
 * The hub's PKI: its CA and trust bundle, the node port's certificate, and node certificates issued
 * from the nodes' own CSRs. See docs/trust.md.
 */
@Version("1.1.0")
@Export
package dev.meshhub.api.pki;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
