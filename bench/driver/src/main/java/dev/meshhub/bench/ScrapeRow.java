package dev.meshhub.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Extra row 16 (issue 13): dispatch under a Prometheus scrape every 100 ms. Row 1's round trip (one task at a
 * time to one node, in windows) with a scraper reading /metrics every 100 ms over HTTP, against the same windows
 * without it, interleaved (without, with, without, with, ...) so that drift on this shared machine falls on both.
 * Goal: dispatch p99 with the scraper within 1.1x of without (the "unaffected within noise").
 */
final class ScrapeRow {

    static final int NUMBER = 16;
    static final String NAME = "metrics scrape under dispatch load";
    static final String GOAL = "dispatch p99 with /metrics scraped every 100 ms <= 1.10x without";
    private static final double LIMIT = 1.10;
    private static final Duration EVERY = Duration.ofMillis(100);

    private final BenchMain main;

    ScrapeRow(BenchMain main) {
        this.main = main;
    }

    Report.Row run() {
        List<String> details = new ArrayList<>();
        HubPhase phase = null;
        try {
            phase = main.launchHub("scrape", null, Map.of());
            main.prepareHub(phase, 1);
            if (!phase.usable()) {
                throw new IllegalStateException("hub 'scrape' did not start: " + phase.startError);
            }
            HubInstance hub = phase.hub;
            phase.fleet.connect(1, main.within(Duration.ofSeconds(30)));
            URI metrics = URI.create("http://127.0.0.1:" + hub.httpPort() + "/metrics");
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> first = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString());
            if (first.statusCode() != 200) {
                throw new IllegalStateException("/metrics answered " + first.statusCode() + ": " + first.body());
            }
            details.add(String.format(Locale.ROOT, "workload: one hub as shipped (the probe deployed), one connected simulated node;"
                    + " dispatch = row 1's round trip (echo + 64 B, one at a time), %d windows of %d tasks each way after one"
                    + " unrecorded; the scraper: GET /metrics every %d ms on one keep-alive HTTP/1.1 connection (%,d bytes, %d lines"
                    + " per scrape)", main.options().rounds(), main.options().roundTripCount(), EVERY.toMillis(), first.body().length(),
                    first.body().split("\n").length));
            JournalScaleRow.window(main, hub, "r16-warm", true);
            List<JournalScaleRow.Window> without = new ArrayList<>();
            List<JournalScaleRow.Window> with = new ArrayList<>();
            List<Double> scrapeMillis = new ArrayList<>();
            long scrapes = 0;
            long failed = 0;
            for (int i = 0; i < main.options().rounds(); i++) {
                main.progress("row 16: window %d of %d without the scraper, then with it", i + 1, main.options().rounds());
                without.add(JournalScaleRow.window(main, hub, "r16-without-" + i, false));
                Scraper scraper = new Scraper(http, metrics);
                scraper.start();
                try {
                    with.add(JournalScaleRow.window(main, hub, "r16-with-" + i, false));
                } finally {
                    scraper.stop();
                }
                scrapes += scraper.scrapes.get();
                failed += scraper.failed.get();
                scrapeMillis.addAll(scraper.millis);
            }
            double p99Without = JournalScaleRow.median(without, JournalScaleRow.Window::p99);
            double p99With = JournalScaleRow.median(with, JournalScaleRow.Window::p99);
            double ratio = p99With / p99Without;
            Spread scrapeSpread = Spread.of(scrapeMillis);
            details.add(String.format(Locale.ROOT, "without the scraper: dispatch p50 %s, p99 %s (medians of %d windows; window p99 %s to %s)",
                    Report.millis(JournalScaleRow.median(without, JournalScaleRow.Window::p50)), Report.millis(p99Without), without.size(),
                    Report.millis(without.stream().mapToDouble(JournalScaleRow.Window::p99).min().orElse(0)),
                    Report.millis(without.stream().mapToDouble(JournalScaleRow.Window::p99).max().orElse(0))));
            details.add(String.format(Locale.ROOT, "with it: dispatch p50 %s, p99 %s (window p99 %s to %s); %,d scrapes, %d failed; a scrape"
                    + " took %.1f ms median, %.1f ms at most (the hub reads its services at each: node directory, journal backlog, task"
                    + " counts at most every 5 s, locks, schedule, JVM)",
                    Report.millis(JournalScaleRow.median(with, JournalScaleRow.Window::p50)), Report.millis(p99With),
                    Report.millis(with.stream().mapToDouble(JournalScaleRow.Window::p99).min().orElse(0)),
                    Report.millis(with.stream().mapToDouble(JournalScaleRow.Window::p99).max().orElse(0)), scrapes, failed,
                    scrapeSpread.median(), scrapeSpread.max()));
            details.add("hub 'scrape': " + hub.gcPauses());
            boolean pass = failed == 0 && ratio <= LIMIT;
            return new Report.Row(NUMBER, NAME, "dispatch p99 " + Report.millis(p99With) + " with /metrics scraped every 100 ms",
                    "p99 " + Report.millis(p99Without) + " without", Report.ratio(ratio), GOAL, pass ? Report.PASS : Report.MISS, details);
        } catch (Exception e) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, BenchMain.describe(e), details);
        } finally {
            if (phase != null) {
                main.stop(phase);
            }
        }
    }

    /** GETs /metrics every {@link #EVERY} on its own thread until stopped, timing each. */
    private static final class Scraper {
        private final HttpClient http;
        private final URI uri;
        private final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong scrapes = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final List<Double> millis = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Thread thread;

        Scraper(HttpClient http, URI uri) {
            this.http = http;
            this.uri = uri;
            this.thread = new Thread(this::loop, "bench-scraper");
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.interrupt();
            thread.join(5000);
        }

        private void loop() {
            long next = System.nanoTime();
            while (running.get()) {
                long started = System.nanoTime();
                try {
                    HttpResponse<Void> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                            HttpResponse.BodyHandlers.discarding());
                    if (response.statusCode() == 200) {
                        scrapes.incrementAndGet();
                        millis.add((System.nanoTime() - started) / 1e6);
                    } else {
                        failed.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    failed.incrementAndGet();
                }
                next += EVERY.toNanos();
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    try {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }
}
