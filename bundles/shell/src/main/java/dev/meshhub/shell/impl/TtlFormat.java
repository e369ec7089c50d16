package dev.meshhub.shell.impl;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses short durations such as {@code 90s}, {@code 30m}, {@code 2h30m}, {@code 1d}. */
final class TtlFormat {

    private static final Pattern WHOLE = Pattern.compile("(\\d{1,9}[dhms])+");
    private static final Pattern PART = Pattern.compile("(\\d{1,9})([dhms])");

    private TtlFormat() {
    }

    static Duration parse(String text) {
        String value = text.trim();
        if (!WHOLE.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid duration '" + (value.length() > 40 ? value.substring(0, 40) + "..." : value)
                    + "': use a number with a unit, e.g. 90s, 30m, 1h, 2h30m, 1d");
        }
        Duration total = Duration.ZERO;
        Matcher part = PART.matcher(value);
        while (part.find()) {
            long amount = Long.parseLong(part.group(1));
            total = total.plus(switch (part.group(2)) {
                case "d" -> Duration.ofDays(amount);
                case "h" -> Duration.ofHours(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofSeconds(amount);
            });
        }
        return total;
    }
}
