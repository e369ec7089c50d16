package dev.meshhub.node;

import static org.junit.Assert.assertEquals;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

public class CreditGateTest {

    @Test
    public void permitsNeverExceedTheCredit() throws Exception {
        CreditGate gate = CreditGate.of(100);
        assertEquals(64, gate.acquire(64));
        assertEquals(36, gate.acquire(64));
        assertEquals(0, gate.available());
    }

    @Test
    public void aWaitingReadGoesOnWhenCreditArrives() throws Exception {
        CreditGate gate = CreditGate.of(1);
        CompletableFuture<Integer> waiting = waitingRead(gate);
        gate.grant(5);
        assertEquals(5, (int) waiting.get(10, TimeUnit.SECONDS));
    }

    @Test
    public void aReleasedGateNoLongerWaitsAndPermitsNothing() throws Exception {
        CreditGate gate = CreditGate.of(1);
        CompletableFuture<Integer> waiting = waitingRead(gate);
        gate.release();
        assertEquals("read and drop", 0, (int) waiting.get(10, TimeUnit.SECONDS));
    }

    /** Uses up the gate's credit, then asks for more on another thread. */
    private static CompletableFuture<Integer> waitingRead(CreditGate gate) throws InterruptedException {
        gate.acquire(Integer.MAX_VALUE);
        return CompletableFuture.supplyAsync(() -> {
            try {
                return gate.acquire(16);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    public void noWindowMeansNoFlowControl() throws Exception {
        CreditGate gate = CreditGate.of(0);
        assertEquals(16, gate.acquire(16));
        assertEquals(16, gate.acquire(16));
    }
}
