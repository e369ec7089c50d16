package dev.meshhub.runtime;

import java.nio.file.Path;

/**
 * Where an artifact named by a Pax URL {@code mvn:} location lives in a Maven-layout repository
 * (the hub's {@code system/} directory, or a local repository).
 *
 * <p>{@code mvn:GROUP/ARTIFACT/VERSION[/TYPE[/CLASSIFIER]]} maps to
 * {@code GROUP-with-dots-as-slashes/ARTIFACT/VERSION/ARTIFACT-VERSION[-CLASSIFIER].TYPE}; the type
 * defaults to {@code jar} and is used as the file extension, as Pax URL does. Locations that name a
 * repository ({@code mvn:http://host/repo!g/a/v}) are not supported: system/ is the only repository.
 */
public final class MavenLayout {

    private static final String SCHEME = "mvn:";

    private MavenLayout() {
    }

    /**
     * The artifact's path relative to the repository root, with {@code /} separators.
     *
     * @throws IllegalArgumentException if {@code location} is not a supported {@code mvn:} location
     */
    public static String path(String location) {
        if (location == null || !location.startsWith(SCHEME)) {
            throw new IllegalArgumentException("not an mvn: location: " + location);
        }
        String coordinates = location.substring(SCHEME.length()).trim();
        if (coordinates.contains("!")) {
            throw new IllegalArgumentException("mvn: locations naming a repository are not supported: " + location);
        }
        String[] parts = coordinates.split("/", -1);
        if (parts.length < 3 || parts.length > 5) {
            throw new IllegalArgumentException("expected mvn:GROUP/ARTIFACT/VERSION[/TYPE[/CLASSIFIER]], got " + location);
        }
        String group = parts[0];
        String artifact = parts[1];
        String version = parts[2];
        String type = parts.length > 3 && !parts[3].isEmpty() ? parts[3] : "jar";
        String classifier = parts.length > 4 ? parts[4] : "";
        if (group.isBlank() || artifact.isBlank() || version.isBlank()) {
            throw new IllegalArgumentException("group, artifact and version must not be empty: " + location);
        }
        for (String part : parts) {
            // The path must stay inside the repository.
            if (part.contains("\\") || part.contains("..")) {
                throw new IllegalArgumentException("malformed mvn: location: " + location);
            }
        }
        return group.replace('.', '/') + '/' + artifact + '/' + version + '/'
                + artifact + '-' + version + (classifier.isEmpty() ? "" : '-' + classifier) + '.' + type;
    }

    /** The artifact's file inside {@code repository}. */
    public static Path resolve(Path repository, String location) {
        return repository.resolve(path(location));
    }
}
