package dev.meshhub.mirror.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

/**
 * A reader of a mirrored file sees the old file or the new one, never a mix or a truncated file,
 * however often it is replaced (RELIABILITY 28, short of pulling the plug).
 */
public class AtomicReplaceTest {

    private static final String NODE = "n-1";
    private static final int SIZE = 256 * 1024;
    private static final int VERSIONS = 120;

    private final TemporaryFolder folder = new TemporaryFolder();
    private final MirrorFixture fixture = MirrorFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    /** Version {@code v} of the file: every byte is {@code v}, so a mix is easy to see. */
    private static byte[] version(int v) {
        byte[] bytes = new byte[SIZE];
        Arrays.fill(bytes, (byte) v);
        return bytes;
    }

    @Test
    public void readersOnlyEverSeeACompleteOldOrNewFile() throws Exception {
        fixture.upload(NODE, "hot/file.bin", version(0));
        Path file = fixture.root.resolve(NODE).resolve("hot/file.bin");
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> problem = new AtomicReference<>();
        AtomicInteger reads = new AtomicInteger();
        AtomicInteger lastSeen = new AtomicInteger();
        Thread reader = new Thread(() -> {
            while (!done.get() && problem.get() == null) {
                byte[] seen;
                try {
                    seen = Files.readAllBytes(file);
                } catch (NoSuchFileException e) {
                    problem.set("the file was missing for a moment");
                    return;
                } catch (Exception e) {
                    problem.set(e.toString());
                    return;
                }
                reads.incrementAndGet();
                if (seen.length != SIZE) {
                    problem.set("read " + seen.length + " bytes, expected " + SIZE);
                    return;
                }
                byte v = seen[0];
                for (int i = 1; i < seen.length; i++) {
                    if (seen[i] != v) {
                        problem.set("mixed content: byte 0 is " + v + ", byte " + i + " is " + seen[i]);
                        return;
                    }
                }
                if (v < lastSeen.get()) {
                    problem.set("went back from version " + lastSeen.get() + " to " + v);
                    return;
                }
                lastSeen.set(v);
            }
        }, "mirror-reader");
        reader.start();
        try {
            for (int v = 1; v <= VERSIONS && problem.get() == null; v++) {
                fixture.upload(NODE, "hot/file.bin", version(v));
            }
        } finally {
            done.set(true);
            reader.join(30_000);
        }
        assertNull(problem.get(), problem.get());
        assertTrue("the reader ran", reads.get() > 0);
        assertEquals(VERSIONS, Files.readAllBytes(file)[SIZE - 1]);
        assertEquals(SIZE, fixture.mirror().usage(NODE).bytes());
    }
}
