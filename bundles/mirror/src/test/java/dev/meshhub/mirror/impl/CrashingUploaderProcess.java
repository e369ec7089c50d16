package dev.meshhub.mirror.impl;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import dev.meshhub.api.mirror.MirrorUpload;

/**
 * Started in its own JVM by {@link CrashDuringFinishTest}: opens a mirror on the directory named by
 * its argument and replaces {@value #PATH} of node {@value #NODE} again and again, alternately with
 * content B and content A, printing {@value #FINISHED} and the content's letter after each finish,
 * until the test kills the JVM. It never closes the mirror: the kill is the hub crash.
 */
public final class CrashingUploaderProcess {

    static final String NODE = "n-1";
    static final String PATH = "hot/file.bin";
    /** Large enough that writing, forcing and moving a version takes a while, so kills land all over. */
    static final int SIZE = 6 * 1024 * 1024;
    static final String FINISHED = "finished ";
    static final int CHUNK = 64 * 1024;
    private static final long SEED_A = 0xA;
    private static final long SEED_B = 0xB;
    private static final int MOST_UPLOADS = 100_000;

    private CrashingUploaderProcess() {
    }

    /** Content A: deterministic bytes, different from B. */
    static byte[] contentA() {
        return MirrorFixture.content(SIZE, SEED_A);
    }

    static byte[] contentB() {
        return MirrorFixture.content(SIZE, SEED_B);
    }

    public static void main(String[] args) throws Exception {
        exitWhenTheTestGoesAway();
        Path root = Path.of(args[0]);
        DiskMirror mirror = new DiskMirror(new MirrorSettings(root, MirrorFixture.GIB, 0, Duration.ofHours(1), false),
                Clock.systemUTC());
        byte[][] contents = {contentA(), contentB()};
        byte[][] digests = {MirrorFixture.sha256(contents[0]), MirrorFixture.sha256(contents[1])};
        for (int i = 0; i < MOST_UPLOADS; i++) {
            // The test leaves A in place before the first start: begin with B so every finish replaces.
            int which = (i + 1) % 2;
            MirrorUpload upload = mirror.openUpload(NODE, PATH, SIZE);
            if (upload.offset() != 0) {
                // The test finishes any partial a kill left before it starts the next uploader.
                throw new IllegalStateException("a partial of " + upload.offset() + " bytes was left for the uploader");
            }
            MirrorFixture.write(upload, contents[which], 0, SIZE, CHUNK);
            upload.finish(SIZE, digests[which]);
            System.out.println(FINISHED + (which == 0 ? "A" : "B") + " " + i);
            System.out.flush();
        }
        // Not reached in the test; never a clean shutdown either way.
        Runtime.getRuntime().halt(1);
    }

    /** If the test JVM dies first, its end of standard input closes: stop rather than run on. */
    private static void exitWhenTheTestGoesAway() {
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // nothing is ever sent
                }
            } catch (IOException e) {
                // treated as gone
            }
            Runtime.getRuntime().halt(2);
        }, "stdin-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }
}
