package dev.meshhub.bench.probe.impl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

import org.apache.derby.jdbc.EmbeddedDataSource;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Benchmark 3's fault: the hub's database work stalls. Each new {@code run} opens a connection of its
 * own to the journal's database (the same embedded Derby, in the hub's JVM), takes an exclusive lock on
 * one table, marks the moment in a file, holds the lock for {@code stallMs} and rolls back. Whatever
 * the hub does on that table meanwhile waits on the lock, as it would behind a slow disk or a long
 * transaction. It runs on a thread of its own, ended on deactivation.
 */
@Component(configurationPid = StallConfiguration.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = StallConfiguration.class)
public class StallProbe {

    private static final Logger LOG = LoggerFactory.getLogger(StallProbe.class);

    private Path home;
    private String currentRun;
    private Thread stalling;

    @Activate
    void activate(StallConfiguration config, BundleContext context) {
        home = Path.of(Optional.ofNullable(context.getProperty("meshhub.home")).orElse(System.getProperty("user.dir")));
        configure(config);
    }

    @Modified
    synchronized void configure(StallConfiguration config) {
        if (config.run().equals(currentRun)) {
            return;
        }
        Path output = home.resolve(config.output()).normalize();
        if (Files.exists(output)) {
            currentRun = config.run();
            return;
        }
        if (!config.table().matches("[A-Z_]+") || config.stallMs() < 1) {
            LOG.warn("stall {} refused: table must be an upper-case table name and stallMs positive", config.run());
            return;
        }
        currentRun = config.run();
        stalling = new Thread(() -> stall(config, output), "meshhub-bench-stall-" + config.run());
        stalling.setDaemon(true);
        stalling.start();
    }

    @Deactivate
    synchronized void deactivate() {
        if (stalling != null) {
            stalling.interrupt();
        }
    }

    private void stall(StallConfiguration config, Path output) {
        EmbeddedDataSource source = new EmbeddedDataSource();
        source.setDatabaseName(home.resolve(config.database()).toString());
        ResultFile result = new ResultFile().put("run", config.run()).put("table", config.table()).put("stallMs", config.stallMs());
        try (Connection connection = source.getConnection()) {
            connection.setAutoCommit(false);
            try (Statement statement = connection.createStatement()) {
                long asked = System.currentTimeMillis();
                statement.execute("LOCK TABLE " + config.table() + " IN EXCLUSIVE MODE");
                long locked = System.currentTimeMillis();
                Files.writeString(Path.of(output + ".locked"), Long.toString(locked));
                LOG.info("stall {}: {} locked for {} ms", config.run(), config.table(), config.stallMs());
                Thread.sleep(config.stallMs());
                connection.rollback();
                long released = System.currentTimeMillis();
                result.put("status", "ok").put("askedAtMs", asked).put("lockedAtMs", locked).put("releasedAtMs", released);
            }
        } catch (SQLException | IOException e) {
            LOG.warn("stall {} failed", config.run(), e);
            result.put("status", "error").put("error", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            result.writeTo(output);
        } catch (IOException e) {
            LOG.warn("stall {}: cannot write {}", config.run(), output, e);
        }
    }
}
