package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.NodeStatus;
import java.util.List;
import org.junit.Test;

public class NodeListingTest {

    @Test
    public void timesAreIsoUtcWithSecondsOrNull() {
        assertEquals("2026-01-01T00:00:00Z", NodeListing.iso(1_767_225_600_999L));
        assertEquals("1970-01-01T00:00:01Z", NodeListing.iso(1_000L));
        assertNull(NodeListing.iso(0));
    }

    @Test
    public void tableCellsStayOnOneLine() {
        String table = NodeListing.table(List.of(NodeStatus.newBuilder().setNodeId("n-1").setName("a b\nc")
                .setConnected(true).build()), false);
        assertEquals("ID   NAME   ADDRESS  CONNECTED-SINCE  LAST-HEARTBEAT  CONFINEMENT\n"
                + "n-1  a?b?c  -        -                -               -\n", table);
    }

    @Test
    public void aNodeAnotherSessionContendedForShowsItsTakeoversAndFromWhere() {
        String table = NodeListing.table(List.of(
                NodeStatus.newBuilder().setNodeId("n-1").setName("calm").setConnected(true).build(),
                NodeStatus.newBuilder().setNodeId("n-2").setName("contended").setConnected(true).setTakeovers(2)
                        .setLastTakeoverAddress("192.0.2.9:5000").build()), false);
        assertEquals("ID   NAME       ADDRESS  CONNECTED-SINCE  LAST-HEARTBEAT  CONFINEMENT  TAKEOVERS\n"
                + "n-1  calm       -        -                -               -            0\n"
                + "n-2  contended  -        -                -               -            2,last=192.0.2.9:5000\n", table);
    }

    @Test
    public void anUnconfinedNodeIsMarkedAndTheReasonIsInTheJson() {
        List<NodeStatus> nodes = List.of(
                NodeStatus.newBuilder().setNodeId("n-1").setName("boxed").setConnected(true).setConfinement("bwrap").build(),
                NodeStatus.newBuilder().setNodeId("n-2").setName("bare").setConnected(true)
                        .setConfinement("unconfined: bwrap not found in /usr/bin/bwrap").build());
        assertEquals("ID   NAME   ADDRESS  CONNECTED-SINCE  LAST-HEARTBEAT  CONFINEMENT\n"
                + "n-1  boxed  -        -                -               bwrap\n"
                + "n-2  bare   -        -                -               UNCONFINED\n", NodeListing.table(nodes, false));
        String json = NodeListing.json(nodes);
        assertTrue(json, json.contains("\"confinement\":\"unconfined: bwrap not found in /usr/bin/bwrap\""));
    }
}
