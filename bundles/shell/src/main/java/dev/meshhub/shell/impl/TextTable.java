package dev.meshhub.shell.impl;

import java.util.List;

/** Aligned text tables: columns separated by two spaces, the last one not padded. */
final class TextTable {

    private TextTable() {
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

    /** A cell that stays one line: "-" when empty, control characters (line breaks) become '?'. */
    static String cell(String s) {
        if (s == null || s.isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return b.toString();
    }
}
