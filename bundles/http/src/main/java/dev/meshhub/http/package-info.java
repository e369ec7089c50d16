/**
 * What a bundle putting a page on the hub's HTTP surface needs: the servlet context to select, the
 * request attribute carrying a console session's CSRF token, and the headers every page sends.
 */
@Version("1.0.0")
@Export
package dev.meshhub.http;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
