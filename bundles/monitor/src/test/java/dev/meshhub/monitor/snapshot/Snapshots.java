package dev.meshhub.monitor.snapshot;

import java.io.IOException;
import java.io.StringReader;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;

import dev.meshhub.api.node.NodeSession;

/** Test support: nodes, clocks, and strict JSON parsing. */
public final class Snapshots {

    public static final Instant T0 = Instant.parse("2026-11-27T02:40:00.123Z");

    private Snapshots() {
    }

    public static Clock clockAt(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    /** Node {@code i}: connected an hour before T0, last heard from {@code i} seconds before T0. */
    public static NodeSession node(int i) {
        return new NodeSession("id-" + i, "node-" + i, "10.0." + (i / 250) + "." + (i % 250) + ":5000",
                T0.minusSeconds(3600), T0.minusSeconds(i), i, i == 0 ? "" : "192.0.2." + i + ":4000");
    }

    public static List<NodeSession> nodes(int count) {
        List<NodeSession> nodes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            nodes.add(node(i));
        }
        return nodes;
    }

    /**
     * Parses exactly one JSON document, strictly: a truncated or mixed document, or anything after
     * the document, fails.
     */
    public static JsonObject parseStrict(String text) throws IOException {
        JsonReader reader = new JsonReader(new StringReader(text));
        reader.setStrictness(Strictness.STRICT);
        // Not JsonParser.parseReader: it makes the reader lenient while it parses.
        JsonElement element = new Gson().getAdapter(JsonElement.class).read(reader);
        if (reader.peek() != JsonToken.END_DOCUMENT) {
            throw new IOException("more after the document");
        }
        return element.getAsJsonObject();
    }
}
