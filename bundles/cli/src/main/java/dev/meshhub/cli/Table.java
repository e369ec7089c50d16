package dev.meshhub.cli;

import java.util.List;

/** Aligned text tables for meshctl's listings: columns separated by two spaces, the last one not padded. */
final class Table {

    private Table() {
    }

    /** Renders rows (the first is the header); every row has the header's number of cells. */
    static String render(List<String[]> rows) {
        int columns = rows.get(0).length;
        int[] width = new int[columns];
        for (String[] row : rows) {
            for (int c = 0; c < columns; c++) {
                width[c] = Math.max(width[c], row[c].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] row : rows) {
            for (int c = 0; c < columns; c++) {
                b.append(row[c]);
                if (c < columns - 1) {
                    b.append(" ".repeat(width[c] - row[c].length() + 2));
                }
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** A cell that stays one word: "-" when empty, whitespace and control characters become '?'. */
    static String word(String s) {
        if (s == null || s.isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) || Character.isWhitespace(c) ? '?' : c);
        }
        return b.toString();
    }

    /**
     * A cell that may hold spaces (a last column): "-" when empty, control characters and line
     * breaks become '?', cut to {@code max} characters with "..." at the end.
     */
    static String text(String s, int max) {
        if (s == null || s.isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), max));
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) || (Character.isWhitespace(c) && c != ' ') ? '?' : c);
        }
        if (b.length() > max) {
            b.setLength(Math.max(0, max - 3));
            b.append("...");
        }
        return b.toString();
    }
}
