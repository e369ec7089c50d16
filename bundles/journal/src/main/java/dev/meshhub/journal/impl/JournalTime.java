package dev.meshhub.journal.impl;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.Calendar;
import java.util.GregorianCalendar;
import java.util.TimeZone;

/** Instants to and from {@code TIMESTAMP} columns, always in UTC whatever the JVM's time zone. */
final class JournalTime {

    private JournalTime() {
    }

    private static Calendar utc() {
        // Calendars are not thread-safe; one per call is cheap next to a database round trip.
        return new GregorianCalendar(TimeZone.getTimeZone("UTC"));
    }

    static void set(PreparedStatement statement, int index, Instant instant) throws SQLException {
        if (instant == null) {
            statement.setNull(index, Types.TIMESTAMP);
        } else {
            statement.setTimestamp(index, Timestamp.from(instant), utc());
        }
    }

    static Instant get(ResultSet rows, String column) throws SQLException {
        Timestamp timestamp = rows.getTimestamp(column, utc());
        return timestamp == null ? null : timestamp.toInstant();
    }
}
