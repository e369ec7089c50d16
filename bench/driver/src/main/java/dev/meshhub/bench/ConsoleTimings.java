package dev.meshhub.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Times the web console's JSON API on a hub, as the console's page calls it (with the admin token). */
final class ConsoleTimings {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final HubInstance hub;
    private final String token;
    private String session;

    ConsoleTimings(HubInstance hub) throws IOException {
        this.hub = hub;
        this.token = Files.readString(hub.home().resolve("etc/admin.token"), StandardCharsets.US_ASCII).strip();
    }

    /** From now on, call as a signed-in browser does: with the session cookie of a sign-in, not the token. */
    ConsoleTimings signIn() throws IOException, InterruptedException {
        String base = "http://127.0.0.1:" + hub.httpPort();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "/login"))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Origin", base)
                .POST(HttpRequest.BodyPublishers.ofString("token=" + token)).build(), HttpResponse.BodyHandlers.ofString());
        String cookie = response.headers().firstValue("Set-Cookie").orElseThrow(() -> new IllegalStateException(
                "sign-in answered " + response.statusCode() + " without a session: " + response.body()));
        session = cookie.substring(0, cookie.indexOf(';'));
        return this;
    }

    /** One GET of {@code /console/api/<path>}: its time in ms; throws unless it answers 200. */
    double get(String path) throws IOException, InterruptedException {
        long started = System.nanoTime();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.httpPort()
                + "/console/api/" + path)).header(session == null ? "Authorization" : "Cookie", session == null ? "Bearer " + token : session)
                .timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        double millis = (System.nanoTime() - started) / 1e6;
        if (response.statusCode() != 200) {
            throw new IllegalStateException("/console/api/" + path + " answered " + response.statusCode() + ": " + response.body());
        }
        return millis;
    }

    /** The median of {@code times} GETs of {@code path}, after one unrecorded. */
    double median(String path, int times) throws IOException, InterruptedException {
        get(path);
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            millis.add(get(path));
        }
        return Spread.of(millis).median();
    }

    /** "first page x ms, last page y ms, filtered z ms" for a node list of {@code enrolled} nodes. */
    String nodeList(int enrolled) throws IOException, InterruptedException {
        int last = Math.max(0, (enrolled - 1) / 100 * 100);
        return String.format(Locale.ROOT, "console node list with %,d enrolled (100 per page, median of 10): first page %.1f ms,"
                + " last page (offset %,d) %.1f ms, filtered by name %.1f ms", enrolled, median("nodes?limit=100", 10), last,
                median("nodes?limit=100&offset=" + last, 10), median("nodes?limit=100&q=fleet-0099", 10));
    }
}
