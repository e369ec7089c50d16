package dev.meshhub.bench;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class ThreadCpuTest {

    @Test
    public void threadsOfOnePoolFormOneGroup() {
        assertEquals("meshhub-node-io", ThreadCpu.group("meshhub-node-io"));
        assertEquals("meshhub-grpc-no", ThreadCpu.group("meshhub-grpc-no"));
        assertEquals("GC Thread", ThreadCpu.group("GC Thread#1"));
        assertEquals("C2 CompilerThre", ThreadCpu.group("C2 CompilerThre"));
        assertEquals("pool-3-thread", ThreadCpu.group("pool-3-thread-12"));
        assertEquals("42", ThreadCpu.group("42"));
    }

    @Test
    public void userAndSystemTimeAreReadPastANameWithSpacesAndParentheses() {
        assertEquals(175 * 10_000_000L, ThreadCpu.cpuNanos("4321 (C2 (x) Thre) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0"));
    }

    @Test
    public void thisProcessHasThreadsThatUsedCpu() {
        ThreadCpu now = ThreadCpu.of(ProcessHandle.current().pid());
        assertTrue(now.total() > 0);
        String line = now.since(ThreadCpu.none()).perMib(1024 * 1024, 3);
        assertTrue(line, line.startsWith("all "));
    }
}
