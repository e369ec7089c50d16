package dev.meshhub.transport.impl.dispatch;

import java.time.Duration;

import dev.meshhub.transport.impl.TransportConfig;

/**
 * The limits tasks are held to; replaced whole on a configuration change.
 *
 * @param outputWindowBytes each task's output credit (what its node may send before the hub's consumers took it)
 * @param outputStall       how long a consumer of a task's output may take nothing before it is detached
 */
public record TaskLimits(Duration defaultTimeout, Duration killGrace, int maxPendingPerNode, long outputWindowBytes,
                         Duration outputStall) {

    static TaskLimits of(TransportConfig config) {
        return new TaskLimits(Duration.ofMillis(config.defaultTaskTimeoutMs()), Duration.ofMillis(config.killGraceMs()),
                config.maxPendingTasksPerNode(), config.outputWindowBytes(), Duration.ofSeconds(config.outputStallSeconds()));
    }

    /** The limits of a configuration without output settings (tests): a 1 MiB window, a 60 s stall limit. */
    public TaskLimits(Duration defaultTimeout, Duration killGrace, int maxPendingPerNode) {
        this(defaultTimeout, killGrace, maxPendingPerNode, 1024 * 1024, Duration.ofSeconds(60));
    }
}
