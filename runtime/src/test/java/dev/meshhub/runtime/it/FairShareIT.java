package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import dev.meshhub.api.lock.LockRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Status;

/**
 * One hostile node cannot keep another from syncing: it gets its share of upload slots and no more,
 * its stalled uploads are ended after the idle timeout (slots and file locks freed), and meanwhile
 * another node's upload goes through.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FairShareIT extends HubTestBase {

    private static final Duration PATIENCE = Duration.ofSeconds(30);
    /** The shipped maxUploadsPerNode. */
    private static final int SHARE = 8;
    /** The idle timeout the test sets once the refusals are checked. */
    private static final int IDLE_SECONDS = 3;

    @Inject
    private LockRegistry locks;

    @Configuration
    public Option[] config() {
        // The shipped slot counts (64 in all, 8 per node) and idle timeout: the refusals are checked before any
        // stalled upload can time out, however slowly a loaded machine opens 65 streams (a stalled upload
        // ended early frees a slot, and the next one would be admitted). The test then shortens the idle
        // timeout through the configuration file, live, as an admin would.
        return HubTestSupport.hubOptions("FairShareIT", Map.of(), "meshhub");
    }

    @Test
    public void aHostileNodeGetsItsShareAndItsStalledUploadsAreEnded() throws Exception {
        TestNode hostile = hub.enroll("hostile");
        TestNode honest = hub.enroll("honest");
        // 65 stalled uploads from one node: one more than the hub's 64 slots in all. The first 8 on its connection.
        List<TestUpload> stalled = new ArrayList<>();
        for (int i = 0; i < SHARE; i++) {
            TestUpload upload = hostile.upload();
            assertEquals("admitted", 0, upload.start("stall-" + i + ".bin", 1 << 20));
            stalled.add(upload);
        }
        // The rest each on a connection of its own: the share is the node's, whatever connections it opens (and no
        // upload waits client-side for one of the connection's 16 stream slots, which a refused stream may hold a while).
        List<ManagedChannel> connections = new ArrayList<>();
        try {
            List<TestUpload> beyond = new ArrayList<>();
            for (int i = SHARE; i < 65; i++) {
                ManagedChannel connection = HubClient.nodeChannel(hub.home, hub.nodePort, null,
                        TestCertificates.keyManagers(hostile.keys.getPrivate(), hostile.chain));
                connections.add(connection);
                TestUpload upload = TestUpload.open(connection);
                upload.startOnly("stall-" + i + ".bin", 1 << 20);
                beyond.add(upload);
            }
            for (TestUpload upload : beyond) {
                Status refused = upload.awaitEnd(30);
                assertEquals(refused.toString(), Status.Code.RESOURCE_EXHAUSTED, refused.getCode());
                assertTrue(refused.getDescription(), refused.getDescription().contains("maxUploadsPerNode " + SHARE));
                upload.close();
            }
        } finally {
            connections.forEach(ManagedChannel::shutdownNow);
        }

        byte[] data = "an honest node's file".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (TestUpload upload = honest.upload()) {
            assertEquals(0, upload.start("honest.txt", data.length));
            upload.chunk(0, data).end(data.length, TestUpload.sha256(data));
            assertEquals("the honest node syncs while the hostile one stalls", Status.Code.OK, upload.awaitEnd(10).getCode());
        }

        shortenTheIdleTimeout();
        for (TestUpload upload : stalled) {
            Status ended = upload.awaitEnd((int) PATIENCE.toSeconds());
            assertEquals(ended.toString(), Status.Code.DEADLINE_EXCEEDED, ended.getCode());
            assertTrue(ended.getDescription(), ended.getDescription().contains("uploadIdleTimeoutSeconds"));
            upload.close();
        }
        Poll.until("no live IO lock", PATIENCE, () -> locks.stats().live() == 0);
        try (TestUpload again = hostile.upload()) {
            assertEquals("its slots are free again", 0, again.start("stall-0.bin", 1 << 20));
        }
    }

    /** Edits uploadIdleTimeoutSeconds in etc/ (FileInstall hands it to the transport) and waits until file sync has it. */
    private void shortenTheIdleTimeout() throws Exception {
        Path cfg = hub.home.resolve("etc/dev.meshhub.transport.cfg");
        HubTestSupport.writeConfig(cfg, Files.readString(cfg) + "uploadIdleTimeoutSeconds = " + IDLE_SECONDS + "\n");
        Poll.until("file sync handed uploadIdleTimeoutSeconds " + IDLE_SECONDS, PATIENCE, () -> String.valueOf(IDLE_SECONDS).equals(
                String.valueOf(HubTestSupport.componentProperty(context, "dev.meshhub.transport.impl.sync.FileSyncService",
                        "uploadIdleTimeoutSeconds"))));
    }
}
