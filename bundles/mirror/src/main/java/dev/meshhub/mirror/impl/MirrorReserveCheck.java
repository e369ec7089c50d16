package dev.meshhub.mirror.impl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;

/**
 * The mirror's disk reserve as a health check ({@code hc.name = mirror-disk-reserve}): CRITICAL when
 * the free space on the mirror's disk is below the reserve (uploads are refused there), WARN below
 * twice the reserve, OK above. Reads the same configuration as the mirror itself.
 */
@Component(service = HealthCheck.class, configurationPid = MirrorConfiguration.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = {HealthCheck.NAME + "=mirror-disk-reserve", HealthCheck.TAGS + "=meshhub"})
public final class MirrorReserveCheck implements HealthCheck {

    private volatile MirrorSettings settings;

    @Activate
    @Modified
    void configure(BundleContext context, MirrorConfiguration config) {
        settings = MirrorSettings.resolve(config, context.getProperty(MirrorSettings.HOME_PROPERTY), Path.of("").toAbsolutePath());
    }

    @Override
    public Result execute() {
        MirrorSettings current = settings;
        return check(current.root(), current.reserveBytes());
    }

    /** The check for a mirror at {@code root} that keeps {@code reserveBytes} free. */
    static Result check(Path root, long reserveBytes) {
        Path existing = root;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent(); // the mirror makes its directory on first use
        }
        if (existing == null) {
            return new Result(Result.Status.CRITICAL, "no part of the mirror's path " + root + " exists");
        }
        try {
            long free = Files.getFileStore(existing).getUsableSpace();
            String figures = String.format(Locale.ROOT, "%,d MiB free on the mirror's disk (%s), reserve %,d MiB", free >> 20,
                    root, reserveBytes >> 20);
            if (free < reserveBytes) {
                return new Result(Result.Status.CRITICAL, figures + ": uploads are refused until space is freed"
                        + " (or reserveBytes lowered in etc/dev.meshhub.mirror.cfg)");
            }
            return new Result(free < 2 * reserveBytes ? Result.Status.WARN : Result.Status.OK, figures);
        } catch (IOException e) {
            return new Result(Result.Status.CRITICAL, "cannot read the free space of " + root + ": " + e);
        }
    }
}
