package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.Test;

/** The plain progress lines (not a terminal): what they say and how often. */
public class ProgressTest {

    private static final long SECOND = 1_000_000_000L;
    private static final long MIB = 1024 * 1024;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    public void plainLinesComeAtMostEveryFiveSecondsWithBarRateAndEta() {
        Progress p = new Progress(err, false, "push app.bin to web-1:app.bin");
        long t0 = 1_000 * SECOND;
        p.start(0, 4 * MIB, t0);
        assertEquals("push app.bin to web-1:app.bin: starting, 4.0 MiB\n", text());

        p.update(MIB, 4 * MIB, t0 + SECOND);
        p.update(MIB + 1, 4 * MIB, t0 + 4 * SECOND);
        assertEquals("nothing before 5 s", "push app.bin to web-1:app.bin: starting, 4.0 MiB\n", text());

        p.update(2 * MIB, 4 * MIB, t0 + 5 * SECOND);
        assertEquals("push app.bin to web-1:app.bin: starting, 4.0 MiB\n"
                + "push app.bin to web-1:app.bin: [############............]  50% 2.0 MiB / 4.0 MiB  409.6 KiB/s"
                + "  ETA 5s\n", text());

        p.update(4 * MIB, 4 * MIB, t0 + 9 * SECOND);
        p.end();
        assertEquals("the next line waits 5 s more; end() adds nothing to plain output", 2, text().split("\n").length);
    }

    @Test
    public void aResumeStartsFromWhatTheHubHeldAndAnUnknownSizeHasNoBar() {
        Progress resumed = new Progress(err, false, "pull web-1:logs/app.log");
        resumed.start(512, 1536, 0);
        assertEquals("pull web-1:logs/app.log: resuming at 512 B of 1.5 KiB\n", text());
        assertEquals("the rate counts only this run's bytes", "[########################] 100% 1.5 KiB / 1.5 KiB  512 B/s   ",
                resumed.line(1536, 1536, 2 * SECOND));

        Progress unknown = new Progress(err, false, "x");
        unknown.start(0, -1, 0);
        assertEquals("10.0 MiB  1.0 MiB/s   ", unknown.line(10 * MIB, -1, 10 * SECOND));
    }
}
