package dev.meshhub.node;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Mirrors workspace folders to the hub: each pass uploads every regular file below the folders that
 * is new or changed (size or modification time) since its last successful upload. An upload that
 * fails is tried again on the next pass, resuming from what the hub holds. Symbolic links are not
 * followed, and the agent's private directory and its download temp files are never sent.
 */
final class FolderSync {

    private static final Logger LOG = Logger.getLogger(FolderSync.class.getName());

    /** What a pass did. */
    record Pass(int uploaded, int unchanged, int failed) {
    }

    private final Path workspace;
    private final List<String> folders;
    private final String nodeLabel;
    /** Path → size and modification time of its last successful upload. Touched by one pass at a time. */
    private final Map<String, List<Long>> sent = new HashMap<>();

    FolderSync(Path workspace, List<String> folders, String nodeLabel) {
        this.workspace = workspace;
        this.folders = List.copyOf(folders);
        this.nodeLabel = nodeLabel;
    }

    /** One pass over every folder; blocks on the uploads. */
    synchronized Pass pass(FileUploader uploader) throws InterruptedException {
        int uploaded = 0;
        int unchanged = 0;
        int failed = 0;
        for (String folder : folders) {
            List<Path> files;
            Path base;
            try {
                base = workspace.toRealPath();
                files = files(WorkingDirectory.resolve(workspace, folder, nodeLabel));
            } catch (WorkingDirectory.Refused | IOException e) {
                LOG.warning("cannot sync folder " + folder + ": " + e.getMessage());
                failed++;
                continue;
            }
            for (Path file : files) {
                String path = base.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                List<Long> seen;
                try {
                    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                    seen = List.of(attributes.size(), attributes.lastModifiedTime().toMillis());
                } catch (IOException gone) {
                    continue;
                }
                if (seen.equals(sent.get(path))) {
                    unchanged++;
                    continue;
                }
                try {
                    FileUploader.Result result = uploader.upload(file, path, "");
                    sent.put(path, seen);
                    uploaded++;
                    LOG.fine("synced " + path + ": " + result.size() + " bytes (" + result.sent() + " sent)");
                } catch (FileUploader.UploadException e) {
                    failed++;
                    LOG.warning("sync of " + path + " failed (retried next pass): " + e.getMessage());
                }
            }
        }
        return new Pass(uploaded, unchanged, failed);
    }

    /** Regular files below {@code folder}, in a stable order; links, the private directory and temp files skipped. */
    private static List<Path> files(Path folder) throws IOException {
        List<Path> found = new ArrayList<>();
        Files.walkFileTree(folder, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return dir.getFileName() != null && dir.getFileName().toString().equals(CredentialStore.DIRECTORY)
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String name = file.getFileName().toString();
                if (attrs.isRegularFile() && !name.startsWith(".meshhub-download-")) {
                    found.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                LOG.fine("skipping " + file + ": " + e.getMessage());
                return FileVisitResult.CONTINUE;
            }
        });
        found.sort(null);
        return found;
    }
}
