package dev.meshhub.journal.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import org.junit.Test;

public class TaskJournalSettingsTest {

    @Test
    public void defaultsAreTheConfigurationsDefaults() {
        assertEquals(new TaskJournalSettings(8192, 512, 65536), TaskJournalSettings.DEFAULTS);
    }

    @Test
    public void invalidValuesAreRefusedNamingTheKey() {
        assertRefused("writeQueueCapacity must be between 1 and 1000000, got 0", 0, 512, 65536);
        assertRefused("writeQueueCapacity must be between 1 and 1000000, got 1000001", 1_000_001, 512, 65536);
        assertRefused("maxBatch must be between 1 and 100000, got 0", 8192, 0, 65536);
        assertRefused("maxBatch must be between 1 and 100000, got -1", 8192, -1, 65536);
        assertRefused("outputTailBytes must be between 1 and 16777216 (16 MiB), got 0", 8192, 512, 0);
        assertRefused("outputTailBytes must be between 1 and 16777216 (16 MiB), got 16777217", 8192, 512, 16_777_217);
        new TaskJournalSettings(1, 1, 1);
        new TaskJournalSettings(1_000_000, 100_000, 16_777_216);
    }

    private static void assertRefused(String expected, int writeQueueCapacity, int maxBatch, int outputTailBytes) {
        try {
            new TaskJournalSettings(writeQueueCapacity, maxBatch, outputTailBytes);
            fail("accepted " + writeQueueCapacity + ", " + maxBatch + ", " + outputTailBytes);
        } catch (IllegalArgumentException e) {
            assertEquals(expected, e.getMessage());
        }
    }
}
