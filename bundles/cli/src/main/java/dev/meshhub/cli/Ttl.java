package dev.meshhub.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Invite lifetimes as people write them: {@code 90s}, {@code 30m}, {@code 1h}, {@code 2h30m},
 * {@code 1d}. Units in descending order (d, h, m, s), each at most once; the total must be positive.
 */
final class Ttl {

    private static final Pattern SHAPE = Pattern.compile("(?:(\\d{1,9})d)?(?:(\\d{1,9})h)?(?:(\\d{1,9})m)?(?:(\\d{1,9})s)?");
    private static final String EXAMPLES = "e.g. 90s, 30m, 1h, 2h30m, 1d";

    private Ttl() {
    }

    /**
     * @throws IllegalArgumentException with a message fit for the user
     */
    static Duration parse(String text) {
        String s = text == null ? "" : text.strip();
        Matcher m = SHAPE.matcher(s);
        if (s.isEmpty() || !m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (" + EXAMPLES + ")");
        }
        long seconds = 0;
        long[] unit = {86_400, 3_600, 60, 1};
        for (int i = 0; i < 4; i++) {
            String group = m.group(i + 1);
            if (group != null) {
                seconds += Long.parseLong(group) * unit[i]; // at most 9 digits each: no overflow
            }
        }
        if (seconds <= 0) {
            throw new IllegalArgumentException("'" + text + "' is not a positive duration (" + EXAMPLES + ")");
        }
        return Duration.ofSeconds(seconds);
    }

    /** picocli converter: a bad value becomes a usage error (exit 2). */
    static final class Converter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
