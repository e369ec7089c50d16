package dev.meshhub.embed;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.jar.Manifest;

import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.runtime.LaunchException;

/**
 * The {@code dev.meshhub.api} packages as the application's copy exports them (its bundle manifest's
 * {@code Export-Package}, versions included), for the system bundle to export in place of the api
 * bundle: bundles and application then share one copy of every API type.
 */
final class ApiPackages {

    private ApiPackages() {
    }

    /** The api bundle's Export-Package header. */
    static String exports() throws LaunchException {
        String exports = manifest().getMainAttributes().getValue("Export-Package");
        if (exports == null || exports.isBlank()) {
            throw new LaunchException("the dev.meshhub:api jar on the class path carries no Export-Package; use the released artifact");
        }
        return exports;
    }

    /** meshhub's version, from the api bundle (Bundle-Version 0.1.0.SNAPSHOT is the Maven version 0.1.0-SNAPSHOT). */
    static String meshhubVersion() throws LaunchException {
        String version = manifest().getMainAttributes().getValue("Bundle-Version");
        if (version == null) {
            throw new LaunchException("the dev.meshhub:api jar on the class path carries no Bundle-Version");
        }
        return version.endsWith(".SNAPSHOT") ? version.substring(0, version.length() - ".SNAPSHOT".length()) + "-SNAPSHOT" : version;
    }

    private static Manifest manifest() throws LaunchException {
        // The manifest next to the API's classes (a jar, or target/classes in a build).
        URL clazz = TaskDispatcher.class.getResource("TaskDispatcher.class");
        String text = String.valueOf(clazz);
        String marker = "dev/meshhub/api/task/TaskDispatcher.class";
        if (clazz == null || !text.endsWith(marker)) {
            throw new LaunchException("cannot find dev.meshhub:api on the class path");
        }
        try (InputStream in = new URL(text.substring(0, text.length() - marker.length()) + "META-INF/MANIFEST.MF").openStream()) {
            return new Manifest(in);
        } catch (IOException e) {
            throw new LaunchException("cannot read the manifest of dev.meshhub:api: " + e.getMessage(), e);
        }
    }
}
