package dev.meshhub.journal.impl;

/** Text cut to a column's size, and text made safe to echo into a log line or message. */
final class BoundedText {

    private BoundedText() {
    }

    /** At most {@code max} characters, never splitting a surrogate pair. */
    static String truncate(String text, int max) {
        if (text.length() <= max) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
        return text.substring(0, end);
    }

    /** Truncated, with control characters replaced, safe to echo into a log line or message. */
    static String printable(String text, int max) {
        if (text == null) {
            return null;
        }
        String shortened = truncate(text, max);
        StringBuilder clean = new StringBuilder(shortened.length());
        shortened.codePoints().forEach(c -> clean.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return clean.toString();
    }
}
