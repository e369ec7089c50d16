package dev.meshhub.monitor.impl;

import dev.meshhub.testing.TypedConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.meshhub.api.management.ManagementTask;

/** Test support for the monitor component: a settable clock, typed configs and directory listings. */
final class MonitorFixture {

    /** The component's own schedule properties, as DS would pass them. */
    static final Map<String, Object> SCHEDULE = Map.of(ManagementTask.PERIOD, 30L, ManagementTask.UNIT, "SECONDS");

    private MonitorFixture() {
    }

    /** A clock that stands still until moved. */
    static final class SteppingClock extends Clock {
        private volatile Instant now;

        SteppingClock(Instant start) {
            now = start;
        }

        void advance(Duration step) {
            now = now.plus(step);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    static MonitorConfiguration config(Map<String, ?> values) {
        return TypedConfigs.of(MonitorConfiguration.class, values);
    }

    /** Names of the files in {@code directory}, sorted. */
    static List<String> files(Path directory) throws IOException {
        try (Stream<Path> listing = Files.list(directory)) {
            return listing.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }
}
