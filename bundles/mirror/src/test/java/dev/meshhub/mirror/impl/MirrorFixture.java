package dev.meshhub.mirror.impl;

import dev.meshhub.testing.TypedConfigs;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.rules.ExternalResource;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorFile;
import dev.meshhub.api.mirror.MirrorUpload;

/**
 * Shared setup for the mirror's tests: a real mirror under a temporary folder, settings that tests
 * tweak, and helpers for content, digests and open file descriptors. Use as a {@code @Rule} after a
 * {@link TemporaryFolder} rule (see {@link #of}).
 */
final class MirrorFixture extends ExternalResource {

    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final long GIB = 1024 * MIB;

    private final TemporaryFolder folder;
    private final Map<String, Object> config = new HashMap<>();
    private DiskMirror mirror;
    Path root;
    Path outside;

    private MirrorFixture(TemporaryFolder folder) {
        this.folder = folder;
    }

    static MirrorFixture of(TemporaryFolder folder) {
        return new MirrorFixture(folder);
    }

    @Override
    protected void before() throws IOException {
        root = folder.newFolder("home", "data", "mirror").toPath();
        outside = folder.newFolder("outside").toPath();
        // Small tests must not trip over a nearly full build disk.
        config.put("reserveBytes", 0L);
    }

    @Override
    protected void after() {
        if (mirror != null) {
            mirror.close();
        }
    }

    /** Sets a configuration value before {@link #mirror()} first builds the store. */
    MirrorFixture with(String key, Object value) {
        config.put(key, value);
        return this;
    }

    MirrorSettings settings() {
        Map<String, Object> values = new HashMap<>(config);
        values.putIfAbsent("mirrorDirectory", root.toString());
        return MirrorSettings.resolve(TypedConfigs.of(MirrorConfiguration.class, values), null, root.getParent());
    }

    /** The store, built on first use from the configuration so far. */
    DiskMirror mirror() {
        if (mirror == null) {
            mirror = new DiskMirror(settings(), Clock.systemUTC());
        }
        return mirror;
    }

    /** Applies the configuration so far to the running store, as a ConfigAdmin update would. */
    void reconfigure() {
        mirror().reconfigure(settings());
    }

    static byte[] content(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static byte[] sha256(byte[] bytes) {
        return MirrorFiles.sha256().digest(bytes);
    }

    /** Writes {@code bytes[from, to)} at offset {@code from} in chunks of {@code chunk} bytes. */
    static void write(MirrorUpload upload, byte[] bytes, int from, int to, int chunk) throws MirrorException {
        for (int at = from; at < to; at += chunk) {
            upload.write(at, ByteBuffer.wrap(bytes, at, Math.min(chunk, to - at)));
        }
    }

    /** A complete upload of {@code bytes}. */
    MirrorFile upload(String node, String path, byte[] bytes) throws MirrorException {
        try (MirrorUpload upload = mirror().openUpload(node, path, bytes.length)) {
            write(upload, bytes, 0, bytes.length, 64 * 1024);
            return upload.finish(bytes.length, sha256(bytes));
        }
    }

    Path partialDirectory(String node) {
        return root.resolve(DiskMirror.PARTIAL_DIRECTORY).resolve(node);
    }

    Path partialOf(String node, String path) {
        return partialDirectory(node).resolve(DiskMirror.partialName(path) + DiskMirror.PARTIAL_SUFFIX);
    }

    Path sidecarOf(String node, String path) {
        return partialDirectory(node).resolve(DiskMirror.partialName(path) + DiskMirror.SIDECAR_SUFFIX);
    }

    static void age(Path file, Duration by) throws IOException {
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(
                Files.getLastModifiedTime(file).toInstant().minus(by)));
    }

    /** Every regular file and link under {@code top}, as paths relative to it. */
    static String[] listing(Path top) throws IOException {
        if (!Files.exists(top)) {
            return new String[0];
        }
        try (Stream<Path> files = Files.walk(top)) {
            return files.filter(p -> !Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .map(p -> top.relativize(p).toString()).sorted().toArray(String[]::new);
        }
    }

    static void assertListing(Path top, String... expected) throws IOException {
        String[] sorted = expected.clone();
        Arrays.sort(sorted);
        assertEquals(Arrays.asList(sorted), Arrays.asList(listing(top)));
    }

    /** Open file descriptors of this JVM (Linux); -1 where /proc is not there. */
    static int openFileDescriptors() {
        Path fds = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fds)) {
            return -1;
        }
        try (Stream<Path> list = Files.list(fds)) {
            return (int) list.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** Runs {@code action} and returns the {@link MirrorException} it must throw. */
    static MirrorException refused(MirrorException.Reason reason, Action action) {
        try {
            action.run();
        } catch (MirrorException e) {
            assertEquals(e.getMessage(), reason, e.reason());
            return e;
        } catch (Exception e) {
            throw new AssertionError("expected a MirrorException " + reason + ", got " + e, e);
        }
        fail("expected a MirrorException " + reason);
        return null;
    }

    @FunctionalInterface
    interface Action {
        void run() throws Exception;
    }
}
