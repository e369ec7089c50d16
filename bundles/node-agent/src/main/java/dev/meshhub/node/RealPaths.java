package dev.meshhub.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Real paths of entries that may not exist yet. */
final class RealPaths {

    private RealPaths() {
    }

    /** The real path of {@code path}, or of its nearest existing parent with the rest appended. */
    static Path realOrNearest(Path path) {
        return realOrNearest(path, 0);
    }

    private static Path realOrNearest(Path path, int links) {
        Path existing = path;
        List<Path> rest = new ArrayList<>();
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            rest.add(0, existing.getFileName());
            existing = existing.getParent();
        }
        if (existing == null) {
            return path;
        }
        Path real;
        try {
            real = existing.toRealPath();
        } catch (IOException dangling) {
            // A link to something not made yet: where it leads is what counts.
            try {
                if (links < 40 && Files.isSymbolicLink(existing)) {
                    Path target = existing.resolveSibling(Files.readSymbolicLink(existing)).normalize();
                    real = realOrNearest(target, links + 1);
                } else {
                    return path;
                }
            } catch (IOException | UnsupportedOperationException unreadable) {
                return path;
            }
        }
        for (Path part : rest) {
            real = real.resolve(part);
        }
        return real;
    }
}
