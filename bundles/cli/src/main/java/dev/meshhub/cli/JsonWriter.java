package dev.meshhub.cli;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A small streaming JSON writer, enough for meshctl's output: objects, arrays, strings, booleans,
 * numbers and null. Strings are escaped per RFC 8259; everything outside printable ASCII is written
 * as {@code \\uXXXX}, so the output is plain ASCII whatever the terminal's encoding.
 *
 * <p>Misuse (a value where a name is expected, unbalanced ends) throws {@link IllegalStateException}.
 */
final class JsonWriter {

    private enum Scope { ARRAY, OBJECT }

    private final StringBuilder out = new StringBuilder();
    private final Deque<Scope> scopes = new ArrayDeque<>();
    private final Deque<Boolean> first = new ArrayDeque<>();
    private boolean nameWritten;
    private boolean rootStarted;

    JsonWriter beginArray() {
        beforeValue();
        out.append('[');
        push(Scope.ARRAY);
        return this;
    }

    JsonWriter endArray() {
        pop(Scope.ARRAY);
        out.append(']');
        return this;
    }

    JsonWriter beginObject() {
        beforeValue();
        out.append('{');
        push(Scope.OBJECT);
        return this;
    }

    JsonWriter endObject() {
        if (nameWritten) {
            throw new IllegalStateException("name without value");
        }
        pop(Scope.OBJECT);
        out.append('}');
        return this;
    }

    JsonWriter name(String name) {
        if (scopes.peek() != Scope.OBJECT || nameWritten) {
            throw new IllegalStateException("a name is only allowed inside an object, before its value");
        }
        separate();
        quote(name);
        out.append(':');
        nameWritten = true;
        return this;
    }

    JsonWriter value(String s) {
        if (s == null) {
            return nullValue();
        }
        beforeValue();
        quote(s);
        return this;
    }

    JsonWriter value(boolean b) {
        beforeValue();
        out.append(b);
        return this;
    }

    JsonWriter value(long n) {
        beforeValue();
        out.append(n);
        return this;
    }

    JsonWriter nullValue() {
        beforeValue();
        out.append("null");
        return this;
    }

    /** Starts a new line before the next element of an array (for readable multi-line output). */
    JsonWriter newline() {
        out.append('\n');
        return this;
    }

    /** The document; throws if something is still open. */
    String toJson() {
        if (!scopes.isEmpty() || !rootStarted) {
            throw new IllegalStateException("incomplete JSON document");
        }
        return out.toString();
    }

    /** {@code s} as a JSON string literal, quotes included. */
    static String quoted(String s) {
        JsonWriter w = new JsonWriter();
        w.quote(s);
        return w.out.toString();
    }

    private void push(Scope scope) {
        scopes.push(scope);
        first.push(Boolean.TRUE);
    }

    private void pop(Scope scope) {
        if (scopes.peek() != scope) {
            throw new IllegalStateException("not inside an " + scope.name().toLowerCase());
        }
        scopes.pop();
        first.pop();
    }

    private void beforeValue() {
        Scope scope = scopes.peek();
        if (scope == null) {
            if (rootStarted) {
                throw new IllegalStateException("the document is already complete");
            }
            rootStarted = true;
        } else if (scope == Scope.OBJECT) {
            if (!nameWritten) {
                throw new IllegalStateException("a value inside an object needs a name first");
            }
            nameWritten = false;
        } else {
            separate();
        }
    }

    private void separate() {
        if (first.peek()) {
            first.pop();
            first.push(Boolean.FALSE);
        } else {
            out.append(',');
        }
    }

    private void quote(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\b': out.append("\\b"); break;
                case '\f': out.append("\\f"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20 || c > 0x7e) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }
}
