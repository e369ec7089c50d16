package dev.meshhub.transport.impl.dispatch;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.Test;

public class OutputTailTest {

    private final OutputTail tail = new OutputTail();

    private List<String> drained() {
        List<String> out = new ArrayList<>();
        tail.drainTo(bytes -> out.add(new String(bytes, StandardCharsets.US_ASCII)));
        return out;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    public void keepsTheLastBytesInOrderAcrossTheRingsEnd() {
        tail.add(ascii("abcd"), 8);
        tail.add(ascii("efgh"), 8);
        tail.add(ascii("ijk"), 8);
        assertEquals(List.of("defghijk"), drained());
        assertEquals("nothing twice", List.of(), drained());
        tail.add(ascii("lm"), 8);
        assertEquals(List.of("lm"), drained());
    }

    @Test
    public void aChunkLargerThanTheTailKeepsItsEnd() {
        tail.add(ascii("0123456789"), 4);
        assertEquals(List.of("6789"), drained());
    }

    @Test
    public void aNewTailSizeKeepsTheLastBytesGathered() {
        tail.add(ascii("abcdef"), 8);
        tail.add(ascii("gh"), 4);
        assertEquals(List.of("efgh"), drained());
        tail.add(ascii("ij"), 16);
        byte[][] got = new byte[1][];
        tail.drainTo(bytes -> got[0] = bytes);
        assertArrayEquals(ascii("ij"), got[0]);
    }
}
