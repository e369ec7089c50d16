package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A flood of anonymous connections (never finishing a TLS handshake) cannot exhaust the hub: beyond
 * {@code maxUnauthenticatedConnections} each is closed as it is accepted, connected nodes keep their
 * sessions, and nodes with certificates do not count once their handshake is done, so more of them
 * than the cap stay connected at once.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ConnectionCapIT extends HubTestBase {

    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final int CAP = 4;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("ConnectionCapIT", Map.of("maxUnauthenticatedConnections", String.valueOf(CAP),
                "connectionHandshakeTimeoutSeconds", "60"), "meshhub");
    }

    @Test
    public void anonymousConnectionsBeyondTheCapAreClosedAtAcceptWhileNodesStayConnected() throws Exception {
        TestNode before = hub.enroll("before-flood");
        TestStream session = before.stream().hello().keepAlive();
        Poll.until("before-flood connected", PATIENCE, () -> directory.session(before.getNodeId()).isPresent());

        List<Socket> flood = new ArrayList<>();
        try {
            for (int i = 0; i < CAP; i++) {
                flood.add(new Socket("127.0.0.1", hub.nodePort)); // TCP only: the TLS handshake never starts
            }
            try (Socket extra = new Socket("127.0.0.1", hub.nodePort)) {
                extra.setSoTimeout((int) PATIENCE.toMillis());
                assertEquals("the connection over the cap is closed at once", -1, extra.getInputStream().read());
            }
            for (Socket pending : flood) {
                assertTrue("the first " + CAP + " are kept until their handshake timeout", stillOpen(pending));
            }
            try {
                hub.enroll("during-flood");
                fail("an anonymous enrollment got through a full cap");
            } catch (StatusRuntimeException refused) {
                assertEquals(refused.toString(), Status.Code.UNAVAILABLE, refused.getStatus().getCode());
            }
            assertTrue("the connected node keeps its session", directory.session(before.getNodeId()).isPresent());
            assertFalse("its stream was never ended", session.ended.isDone());
        } finally {
            for (Socket socket : flood) {
                socket.close();
            }
        }

        // The slots are free again once the flood closes, and certified connections leave the count:
        // more nodes than the cap stay connected together, and one more can still enroll.
        List<TestStream> streams = new ArrayList<>();
        for (int i = 0; i < CAP + 2; i++) {
            String name = "after-" + i;
            TestNode node = enrollRetrying(name);
            streams.add(node.stream().hello().keepAlive());
            Poll.until(name + " connected", PATIENCE, () -> directory.session(node.getNodeId()).isPresent());
        }
        hub.enroll("one-more");
        for (TestStream stream : streams) {
            assertFalse(stream.ended.isDone());
            stream.close();
        }
        session.close();
    }

    /** Enrolls once the flood's sockets are closed on the hub's side too (their close is asynchronous). */
    private TestNode enrollRetrying(String name) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (true) {
            try {
                return hub.enroll(name);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private static boolean stillOpen(Socket socket) throws Exception {
        socket.setSoTimeout(300);
        InputStream in = socket.getInputStream();
        try {
            return in.read() != -1; // the hub never writes first: any byte would be a surprise
        } catch (SocketTimeoutException open) {
            return true;
        }
    }
}
