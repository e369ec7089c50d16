package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class JsonWriterTest {

    @Test
    public void escapesQuotesBackslashAndControlCharacters() {
        assertEquals("\"a\\\"b\\\\c\"", JsonWriter.quoted("a\"b\\c"));
        assertEquals("\"\\n\\r\\t\\b\\f\"", JsonWriter.quoted("\n\r\t\b\f"));
        assertEquals("\"\\u0000\\u0001\\u001f\"", JsonWriter.quoted("\u0000\u0001\u001f"));
        assertEquals("\"\\u007f\"", JsonWriter.quoted("\u007f"));
        assertEquals("\"/ ok ~\"", JsonWriter.quoted("/ ok ~"));
    }

    @Test
    public void nonAsciiIsWrittenAsUnicodeEscapes() {
        assertEquals("\"\\u00e9t\\u00e9\"", JsonWriter.quoted("\u00e9t\u00e9"));
        assertEquals("\"\\u2028\"", JsonWriter.quoted("\u2028"));
        // A character outside the BMP becomes its surrogate pair; a lone surrogate stays valid ASCII JSON.
        assertEquals("\"\\ud83d\\ude00\"", JsonWriter.quoted("\ud83d\ude00"));
        assertEquals("\"\\ud800\"", JsonWriter.quoted("\ud800"));
    }

    @Test
    public void writesNestedStructuresWithCommasInTheRightPlaces() {
        String json = new JsonWriter().beginArray()
                .beginObject().name("a").value("x").name("b").value(true).name("c").nullValue()
                .name("d").value(42).name("e").beginArray().endArray().endObject()
                .beginObject().endObject()
                .value(false)
                .endArray().toJson();
        assertEquals("[{\"a\":\"x\",\"b\":true,\"c\":null,\"d\":42,\"e\":[]},{},false]", json);
        assertEquals("[]", new JsonWriter().beginArray().endArray().toJson());
        assertEquals("null", new JsonWriter().value((String) null).toJson());
    }

    @Test(expected = IllegalStateException.class)
    public void valueWithoutNameInObjectIsRefused() {
        new JsonWriter().beginObject().value("x");
    }

    @Test(expected = IllegalStateException.class)
    public void unbalancedDocumentIsRefused() {
        new JsonWriter().beginArray().toJson();
    }

    @Test(expected = IllegalStateException.class)
    public void secondTopLevelValueIsRefused() {
        new JsonWriter().beginArray().endArray().beginArray();
    }

    @Test(expected = IllegalStateException.class)
    public void mismatchedEndIsRefused() {
        new JsonWriter().beginArray().endObject();
    }
}
