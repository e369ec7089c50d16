package dev.meshhub.mirror.impl;

import static dev.meshhub.mirror.impl.CrashingUploaderProcess.CHUNK;
import static dev.meshhub.mirror.impl.CrashingUploaderProcess.FINISHED;
import static dev.meshhub.mirror.impl.CrashingUploaderProcess.NODE;
import static dev.meshhub.mirror.impl.CrashingUploaderProcess.PATH;
import static dev.meshhub.mirror.impl.CrashingUploaderProcess.SIZE;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.mirror.MirrorFile;
import dev.meshhub.api.mirror.MirrorUpload;
import dev.meshhub.api.mirror.MirrorUsage;

/**
 * A hub killed (SIGKILL) while it keeps replacing a mirrored file (RELIABILITY 28): afterwards the
 * file is entirely the old version or entirely the new one, never a mix or truncated; whatever was
 * in flight is a partial in the partial area only, never in the node's tree; and a fresh mirror on
 * the same directory resumes that partial (or starts cleanly) and finishes.
 */
public class CrashDuringFinishTest {

    private static final int KILLS = 5;
    /** Finished uploads to wait for before a kill, plus up to {@link #EXTRA_FINISHES} more. */
    private static final int FINISHES_BEFORE_KILL = 2;
    private static final int EXTRA_FINISHES = 2;
    /** Pause after a progress line before the kill, so kills land at different stages. */
    private static final int MOST_DELAY_MILLIS = 200;
    /** A bound for failure only, never a speed check. */
    private static final long WAIT_SECONDS = 60;
    private static final String END = "\u0000end";

    private final TemporaryFolder folder = new TemporaryFolder();
    private final MirrorFixture fixture = MirrorFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    private final byte[] a = CrashingUploaderProcess.contentA();
    private final byte[] b = CrashingUploaderProcess.contentB();
    private final String shaA = hex(MirrorFixture.sha256(a));
    private final String shaB = hex(MirrorFixture.sha256(b));

    @Test
    public void aKillWhileReplacingLeavesTheOldFileOrTheNewOneAndAResumablePartial() throws Exception {
        assertFalse("A and B must differ", shaA.equals(shaB));
        Path destination = fixture.root.resolve(NODE).resolve(PATH);
        DiskMirror first = freshMirror();
        try {
            upload(first, a, 0);
        } finally {
            first.close();
        }
        assertEquals(shaA, sha(destination));

        long seed = System.nanoTime();
        Random random = new Random(seed);
        int leftA = 0;
        int leftB = 0;
        int partials = 0;
        int fullPartials = 0;
        for (int kill = 1; kill <= KILLS; kill++) {
            int finishes = FINISHES_BEFORE_KILL + random.nextInt(EXTRA_FINISHES + 1);
            int delay = random.nextInt(MOST_DELAY_MILLIS + 1);
            List<String> output = runAndKill(finishes, delay);
            String context = "kill " + kill + " of " + KILLS + " (seed " + seed + ", after " + finishes
                    + " finishes + " + delay + " ms); the uploader said:\n" + String.join("\n", output);

            // The destination is one version, whole.
            byte[] seen = Files.readAllBytes(destination);
            String seenSha = hex(MirrorFixture.sha256(seen));
            assertTrue(context + "\nthe file holds " + seen.length + " bytes with SHA-256 " + seenSha
                    + ", neither A (" + shaA + ") nor B (" + shaB + ")", seenSha.equals(shaA) || seenSha.equals(shaB));
            assertEquals(context, SIZE, seen.length);
            boolean isA = seenSha.equals(shaA);
            if (isA) {
                leftA++;
            } else {
                leftB++;
            }

            // Nothing half-written in the node's tree; only the partial area holds what was in flight.
            assertOnlyInPartialArea(context);
            Path partial = fixture.partialOf(NODE, PATH);
            long held = Files.exists(partial, LinkOption.NOFOLLOW_LINKS) ? Files.size(partial) : 0;
            byte[] resume = null;
            if (Files.exists(partial, LinkOption.NOFOLLOW_LINKS)) {
                partials++;
                byte[] bytes = Files.readAllBytes(partial);
                assertTrue(context + "\npartial of " + bytes.length + " bytes is longer than the file",
                        bytes.length <= SIZE);
                boolean prefixOfA = Arrays.equals(a, 0, bytes.length, bytes, 0, bytes.length);
                boolean prefixOfB = Arrays.equals(b, 0, bytes.length, bytes, 0, bytes.length);
                assertTrue(context + "\npartial of " + bytes.length + " bytes is a prefix of neither A nor B",
                        prefixOfA || prefixOfB);
                if (bytes.length == SIZE) {
                    fullPartials++;
                }
                // Empty, it is a prefix of both: then replace whatever is there.
                resume = prefixOfA && prefixOfB ? (isA ? b : a) : prefixOfA ? a : b;
            }
            byte[] next = resume != null ? resume : isA ? b : a;

            // A fresh mirror on the same directory counts what is there and resumes, or starts cleanly.
            DiskMirror mirror = freshMirror();
            try {
                MirrorUsage before = mirror.usage(NODE);
                assertEquals(context, SIZE + held, before.bytes());
                assertEquals(context, held, before.partialBytes());
                MirrorFile file = upload(mirror, next, held);
                assertEquals(context, next == a ? shaA : shaB, file.sha256());
                assertEquals(context, next == a ? shaA : shaB, sha(destination));
                assertEquals(context, SIZE, mirror.usage(NODE).bytes());
                assertEquals(context, 0, mirror.usage(NODE).partialBytes());
                assertEquals(context, 0, mirror.openUploads());
            } finally {
                mirror.close();
            }
            MirrorFixture.assertListing(fixture.root.resolve(NODE), PATH);
            assertFalse(context + "\nthe partial is still there after the finish",
                    Files.exists(partial, LinkOption.NOFOLLOW_LINKS));
        }
        System.out.println("crash during finish: " + KILLS + " kills (seed " + seed + "): file left as A " + leftA
                + "x, as B " + leftB + "x; " + partials + " partial(s) resumed, " + fullPartials + " of them complete");
    }

    /** Starts the uploader, waits for {@code finishes} finished uploads and {@code delayMillis}, kills it. */
    private List<String> runAndKill(int finishes, int delayMillis) throws Exception {
        List<String> output = new ArrayList<>();
        Process process = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                CrashingUploaderProcess.class.getName(),
                fixture.root.toString()))
                .redirectErrorStream(true)
                .start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("read failed: " + e);
            } finally {
                lines.add(END);
            }
        }, "crashing-uploader-output");
        reader.start();
        try {
            for (int i = 0; i < finishes; i++) {
                awaitLine(lines, output, l -> l.startsWith(FINISHED));
            }
            Thread.sleep(delayMillis);
        } finally {
            // The crash: no close, no shutdown hook.
            process.destroyForcibly();
            assertTrue("the uploader did not die", process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
            reader.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        }
        assertFalse("the uploader's output did not end", reader.isAlive());
        for (String line = lines.poll(); line != null && !END.equals(line); line = lines.poll()) {
            output.add(line);
        }
        return output;
    }

    private static void awaitLine(BlockingQueue<String> lines, List<String> seen,
                                  java.util.function.Predicate<String> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || END.equals(line)) {
                fail("the uploader did not say what was expected; it said:\n" + String.join("\n", seen));
            }
            seen.add(line);
            if (wanted.test(line)) {
                return;
            }
        }
    }

    /**
     * The mirror root holds only the node's tree and the partial area; the tree holds only the file;
     * the partial area only the path's partial and its sidecar.
     */
    private void assertOnlyInPartialArea(String context) throws IOException {
        assertEquals(context, Set.of(DiskMirror.PARTIAL_DIRECTORY, NODE), names(fixture.root));
        MirrorFixture.assertListing(fixture.root.resolve(NODE), PATH);
        assertEquals(context, Set.of(NODE), names(fixture.root.resolve(DiskMirror.PARTIAL_DIRECTORY)));
        Set<String> allowed = Set.of(fixture.partialOf(NODE, PATH).getFileName().toString(),
                fixture.sidecarOf(NODE, PATH).getFileName().toString());
        Set<String> partials = names(fixture.partialDirectory(NODE));
        assertTrue(context + "\nunexpected entries in the partial area: " + partials, allowed.containsAll(partials));
    }

    private static Set<String> names(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.map(p -> p.getFileName().toString()).collect(TreeSet::new, Set::add, Set::addAll);
        }
    }

    private DiskMirror freshMirror() {
        return new DiskMirror(fixture.settings(), Clock.systemUTC());
    }

    /** Uploads {@code bytes}, resuming at {@code held}, which must be where the mirror resumes. */
    private static MirrorFile upload(DiskMirror mirror, byte[] bytes, long held) throws Exception {
        try (MirrorUpload upload = mirror.openUpload(NODE, PATH, bytes.length)) {
            assertEquals("resume point", held, upload.offset());
            MirrorFixture.write(upload, bytes, (int) held, bytes.length, CHUNK);
            return upload.finish(bytes.length, MirrorFixture.sha256(bytes));
        }
    }

    private static String sha(Path file) throws IOException {
        return hex(MirrorFixture.sha256(Files.readAllBytes(file)));
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
