package dev.meshhub.scheduler.impl;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.meshhub.api.management.ManagementTask;

/**
 * A task service's schedule, read from its service properties. Reading never throws: a malformed
 * schedule comes back as a {@link Problem} saying which property is wrong and how.
 */
sealed interface TaskSchedule {

    /** Shorter periods would keep a thread busy with scheduling rather than work. */
    Duration MIN_PERIOD = Duration.ofMillis(10);

    /** A runnable schedule. */
    record Valid(String name, Duration period, Duration timeLimit, boolean concurrent) implements TaskSchedule {
    }

    /** Why a service cannot be scheduled; it keeps its name for status and logs. */
    record Problem(String name, String reason) implements TaskSchedule {
    }

    String name();

    /**
     * Reads a schedule from service properties.
     *
     * @param properties   the service's properties
     * @param fallbackName the name to use when {@link ManagementTask#NAME} is absent
     */
    static TaskSchedule read(Map<String, ?> properties, String fallbackName) {
        String name = nameOf(properties, fallbackName);
        Object rawUnit = single(properties.get(ManagementTask.UNIT));
        TimeUnit unit = TimeUnit.SECONDS;
        if (rawUnit != null) {
            if (rawUnit instanceof TimeUnit given) {
                unit = given;
            } else {
                try {
                    unit = TimeUnit.valueOf(rawUnit.toString().strip().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    return new Problem(name, ManagementTask.UNIT + " is not a time unit: '" + rawUnit
                            + "' (use MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS)");
                }
            }
        }
        Object rawPeriod = single(properties.get(ManagementTask.PERIOD));
        if (rawPeriod == null) {
            return new Problem(name, "no " + ManagementTask.PERIOD + " property (a positive whole number of "
                    + unit.name().toLowerCase(Locale.ROOT) + ")");
        }
        Long period = wholeNumber(rawPeriod);
        if (period == null) {
            return new Problem(name, ManagementTask.PERIOD + " is not a whole number: '" + rawPeriod + "'");
        }
        if (period <= 0) {
            return new Problem(name, ManagementTask.PERIOD + " must be positive, is " + period);
        }
        Duration periodDuration = Duration.of(period, unit.toChronoUnit());
        if (periodDuration.compareTo(MIN_PERIOD) < 0) {
            return new Problem(name, ManagementTask.PERIOD + " must be at least " + MIN_PERIOD.toMillis()
                    + " ms, is " + period + " " + unit.name().toLowerCase(Locale.ROOT));
        }
        Duration timeLimit = periodDuration;
        Object rawLimit = single(properties.get(ManagementTask.TIME_LIMIT));
        if (rawLimit != null) {
            Long limit = wholeNumber(rawLimit);
            if (limit == null) {
                return new Problem(name, ManagementTask.TIME_LIMIT + " is not a whole number: '" + rawLimit + "'");
            }
            if (limit < 0) {
                return new Problem(name, ManagementTask.TIME_LIMIT + " must not be negative, is " + limit);
            }
            if (limit > 0) {
                timeLimit = Duration.of(limit, unit.toChronoUnit());
            }
        }
        boolean concurrent = false;
        Object rawConcurrent = single(properties.get(ManagementTask.CONCURRENT));
        if (rawConcurrent instanceof Boolean given) {
            concurrent = given;
        } else if (rawConcurrent != null) {
            String text = rawConcurrent.toString().strip();
            if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
                concurrent = Boolean.parseBoolean(text);
            } else {
                return new Problem(name, ManagementTask.CONCURRENT + " is not true or false: '" + rawConcurrent + "'");
            }
        }
        return new Valid(name, periodDuration, timeLimit, concurrent);
    }

    private static String nameOf(Map<String, ?> properties, String fallbackName) {
        for (String key : new String[] {ManagementTask.NAME, "component.name", "service.pid"}) {
            Object value = single(properties.get(key));
            if (value != null && !value.toString().isBlank()) {
                return value.toString().strip();
            }
        }
        return fallbackName;
    }

    /** Configuration admin may deliver a one-element array or collection where a scalar is meant. */
    private static Object single(Object value) {
        if (value instanceof Object[] array) {
            return array.length == 1 ? array[0] : (array.length == 0 ? null : value);
        }
        if (value instanceof java.util.Collection<?> collection) {
            return collection.size() == 1 ? collection.iterator().next() : (collection.isEmpty() ? null : value);
        }
        return value;
    }

    private static Long wholeNumber(Object value) {
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof String text) {
            try {
                return Long.parseLong(text.strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }
}
