package dev.meshhub.cli;

import dev.meshhub.proto.v1.GetHealthRequest;
import dev.meshhub.proto.v1.HealthCheckInfo;
import dev.meshhub.proto.v1.HealthInfo;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshctl health}: every health check run now, as /system/health serves it. */
@Command(name = "health", mixinStandardHelpOptions = true,
        description = {"Runs the hub's health checks now (transport, journal, mirror disk reserve, scheduler, services,"
                + " and any an integrator added) and prints each one's status and messages, worst first.",
            "Exit code 0 when every check is OK or WARN (what /system/health answers 200 for), "
                + HealthCommand.UNHEALTHY + " when any is worse."})
final class HealthCommand implements Callable<Integer> {

    /** The exit code when a check is worse than WARN: distinct from meshctl's failures (1) and usage errors (2). */
    static final int UNHEALTHY = 3;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        MeshCtl root = MeshCtl.root(spec);
        HealthInfo health;
        try (AdminClient client = root.connect()) {
            health = client.call(stub -> stub.getHealth(GetHealthRequest.getDefaultInstance()));
        }
        root.out().print(json ? json(health) : text(health));
        root.out().flush();
        return health.getHealthy() ? 0 : UNHEALTHY;
    }

    static String text(HealthInfo health) {
        StringBuilder text = new StringBuilder(health.getStatus()).append(health.getHealthy() ? " (healthy)" : " (unhealthy)")
                .append(", checked at ").append(Instant.ofEpochMilli(health.getTakenAtMs())).append('\n');
        for (HealthCheckInfo check : health.getChecksList()) {
            text.append(String.format("%-8s %s%s%n", check.getStatus(), check.getName(), check.getTimedOut() ? " (timed out)" : ""));
            for (String message : check.getMessagesList()) {
                text.append("           ").append(message).append('\n');
            }
        }
        return text.toString();
    }

    static String json(HealthInfo health) {
        JsonWriter w = new JsonWriter().beginObject()
                .name("status").value(health.getStatus())
                .name("healthy").value(health.getHealthy())
                .name("takenAt").value(Instant.ofEpochMilli(health.getTakenAtMs()).toString())
                .name("checks").beginArray();
        for (HealthCheckInfo check : health.getChecksList()) {
            w.beginObject().name("name").value(check.getName()).name("status").value(check.getStatus())
                    .name("messages").beginArray();
            for (String message : check.getMessagesList()) {
                w.value(message);
            }
            w.endArray().name("elapsedMs").value(check.getElapsedMs()).name("timedOut").value(check.getTimedOut()).endObject();
        }
        return w.endArray().endObject().newline().toJson();
    }
}
