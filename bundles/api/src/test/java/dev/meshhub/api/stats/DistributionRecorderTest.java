package dev.meshhub.api.stats;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.util.List;

import org.junit.Test;

public class DistributionRecorderTest {

    @Test
    public void valuesLandInTheirBucketsBoundsInclusive() {
        DistributionRecorder recorder = new DistributionRecorder(1, 10, 100);
        for (double value : new double[] {0.5, 1, 1.5, 10, 99, 100, 1000}) {
            recorder.record(value);
        }
        Distribution snapshot = recorder.snapshot();
        assertEquals(List.of(1.0, 10.0, 100.0), snapshot.upperBounds());
        assertEquals(List.of(2L, 2L, 2L, 1L), snapshot.counts());
        assertEquals(7, snapshot.count());
        assertEquals(1212.0, snapshot.sum(), 1e-9);
    }

    @Test
    public void boundsMustAscend() {
        assertThrows(IllegalArgumentException.class, () -> new DistributionRecorder(1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Distribution(List.of(1.0), List.of(1L), 0));
    }
}
