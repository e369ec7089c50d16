package dev.meshhub.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Remembers, in the agent's private directory, which temporary files pushes are writing, so that
 * temporaries left by an agent that was killed mid-download are removed when the agent starts again.
 * One marker file per download ({@code <state directory>/downloads/<temp name>}), holding the temp's path.
 */
final class DownloadTemps {

    private static final Logger LOG = Logger.getLogger(DownloadTemps.class.getName());
    static final String DIRECTORY = "downloads";

    private DownloadTemps() {
    }

    /** Notes that {@code temp} is being written; returns the marker to {@link #done} afterwards. */
    static Path register(Path stateDirectory, Path temp) throws IOException {
        Path markers = Files.createDirectories(stateDirectory.resolve(DIRECTORY));
        Path marker = markers.resolve(temp.getFileName().toString());
        Files.writeString(marker, temp.toString(), StandardCharsets.UTF_8);
        return marker;
    }

    /** The temp is gone (moved into place or deleted): forget it. */
    static void done(Path marker) {
        try {
            Files.deleteIfExists(marker);
        } catch (IOException e) {
            LOG.log(Level.FINE, "cannot delete download marker " + marker, e);
        }
    }

    /**
     * Deletes the temporaries of downloads that never finished (the agent died meanwhile). Only files
     * inside the workspace, named like download temporaries, and not symbolic links are deleted.
     *
     * @return how many temporaries were deleted
     */
    static int sweep(Path stateDirectory, Path workspace) {
        Path markers = stateDirectory.resolve(DIRECTORY);
        if (!Files.isDirectory(markers, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        int deleted = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(markers)) {
            Path base = workspace.toRealPath();
            for (Path marker : entries) {
                try {
                    Path temp = Path.of(Files.readString(marker, StandardCharsets.UTF_8).strip()).normalize();
                    boolean ours = temp.startsWith(base) && temp.getFileName() != null
                            && temp.getFileName().toString().startsWith(FileDownloader.TEMP_PREFIX)
                            && temp.getFileName().toString().endsWith(FileDownloader.TEMP_SUFFIX)
                            && !Files.isSymbolicLink(temp);
                    if (ours && Files.deleteIfExists(temp)) {
                        deleted++;
                        LOG.info("removed " + base.relativize(temp) + ", left by a download the agent did not finish");
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.FINE, "cannot clean up after download marker " + marker, e);
                }
                done(marker);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot read " + markers, e);
        }
        return deleted;
    }
}
