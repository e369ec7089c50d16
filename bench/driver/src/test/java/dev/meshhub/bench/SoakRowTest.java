package dev.meshhub.bench;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Properties;

import org.junit.Test;

/** How row 13 judges the soak's figures; the soak itself runs in runtime's HotSwapSoakIT. */
public class SoakRowTest {

    private static Properties figures() {
        Properties p = new Properties();
        p.setProperty("swaps", "100");
        p.setProperty("nodes", "50");
        p.setProperty("seconds", "35.1");
        p.setProperty("accepted", "2189");
        p.setProperty("dropped", "0");
        p.setProperty("lost", "0");
        p.setProperty("unfinished", "0");
        p.setProperty("ratePerSecond", "56.9");
        p.setProperty("threads.start", "63");
        p.setProperty("threads.end", "60");
        p.setProperty("files.start", "373");
        p.setProperty("files.end", "317");
        p.setProperty("heapMiB.start", "25.7");
        p.setProperty("heapMiB.end", "26.8");
        p.setProperty("line", "meshhub soak: ...");
        return p;
    }

    @Test
    public void aCleanSoakPasses() {
        Report.Row row = SoakRow.judge(figures(), new ArrayList<>());
        assertEquals(Report.PASS, row.verdict());
        assertTrue(row.line(), row.line().startsWith("13 hot-swap soak | 100 swaps in 35 s, 50 nodes: 0 streams dropped, 0 of 2189"));
        assertTrue(row.line(), row.line().contains("baseline start of run: threads 63, fds 373, heap after GC 25.7 MiB"));
    }

    @Test
    public void eachBrokenGoalIsNamed() {
        Properties p = figures();
        p.setProperty("dropped", "2");
        p.setProperty("lost", "1");
        p.setProperty("ratePerSecond", "31");
        p.setProperty("threads.end", "80");
        p.setProperty("files.end", "400");
        p.setProperty("heapMiB.end", "120");
        Report.Row row = SoakRow.judge(p, new ArrayList<>());
        assertEquals("MISS (2 streams dropped, 1 tasks lost, only 31 tasks/s, threads grew by 17, open files grew by 27,"
                + " heap grew by 94.3 MiB)", row.verdict());
    }

    @Test
    public void justWithinTheSlackIsStillFlat() {
        Properties p = figures();
        p.setProperty("threads.end", "71");
        p.setProperty("files.end", "381");
        assertEquals(Report.PASS, SoakRow.judge(p, new ArrayList<>()).verdict());
        p.setProperty("threads.end", "72");
        assertEquals("MISS (threads grew by 9)", SoakRow.judge(p, new ArrayList<>()).verdict());
    }

    @Test
    public void missingFiguresAreNotGuessed() {
        Properties p = figures();
        p.remove("lost");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SoakRow.judge(p, new ArrayList<>()));
        assertEquals("the soak's figures lack lost", e.getMessage());
    }
}
