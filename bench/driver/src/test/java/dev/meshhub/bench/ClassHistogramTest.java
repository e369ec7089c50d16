package dev.meshhub.bench;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class ClassHistogramTest {

    private static final String BEFORE = "12345:\n"
            + " num     #instances         #bytes  class name (module)\n"
            + "-------------------------------------------------------\n"
            + "   1:         10000         480000  [B (java.base@17.0.15)\n"
            + "   2:          2000          64000  java.lang.String (java.base@17.0.15)\n"
            + "   3:            10           1024  dev.meshhub.Session\n"
            + "Total         12010         545024\n";

    private static final String AFTER = "12345:\n"
            + " num     #instances         #bytes  class name (module)\n"
            + "   1:         12000        2528000  [B (java.base@17.0.15)\n"
            + "   2:          1000          32000  java.lang.String (java.base@17.0.15)\n"
            + "   3:          1010         103424  dev.meshhub.Session\n"
            + "   4:             1           4096  dev.meshhub.New\n"
            + "Total         14011        2667520\n";

    @Test
    public void growthNamesTheClassesThatHoldTheMostMoreBytesFirst() {
        String growth = ClassHistogram.parse(AFTER).growth(ClassHistogram.parse(BEFORE), 3);
        assertEquals("[B +2,000 KiB, dev.meshhub.Session +100 KiB, dev.meshhub.New +4 KiB", growth);
        assertEquals("dev.meshhub.Session +100 KiB", ClassHistogram.parse(AFTER).growth(ClassHistogram.parse(BEFORE), 1, "dev.meshhub."));
    }
}
