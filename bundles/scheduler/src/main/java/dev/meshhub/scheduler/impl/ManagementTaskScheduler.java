package dev.meshhub.scheduler.impl;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.management.ManagementTask;
import dev.meshhub.api.management.ManagementTaskStatus;

/**
 * The whiteboard: tracks every {@link ManagementTask} service (no target filter, so malformed ones are
 * seen, warned about and listed as ignored) and hands them to the {@link SchedulerEngine}. Services
 * bound before activation wait in {@link #early} until the engine exists.
 */
@Component(service = ManagementScheduler.class, immediate = true, configurationPid = SchedulerConfiguration.PID)
@Designate(ocd = SchedulerConfiguration.class)
public class ManagementTaskScheduler implements ManagementScheduler {

    private static final Logger LOG = LoggerFactory.getLogger(ManagementTaskScheduler.class);

    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private final Map<Long, Bound> early = new LinkedHashMap<>();
    /** Guarded by {@link #lock} for writes. */
    private volatile SchedulerEngine engine;
    private volatile Duration shutdownWait = Duration.ofSeconds(SchedulerConfiguration.DEFAULT_SHUTDOWN_WAIT_SECONDS);

    @Activate
    void activate(SchedulerConfiguration config) {
        Settings settings = Settings.of(config);
        SchedulerEngine started = new SchedulerEngine(Clock.systemUTC(), settings.threads, settings.hungThreadAllowance);
        List<Bound> waiting;
        synchronized (lock) {
            engine = started;
            shutdownWait = settings.shutdownWait;
            waiting = List.copyOf(early.values());
            early.clear();
            for (Bound bound : waiting) {
                started.add(bound.serviceId, bound.bundle, bound.task, bound.properties, bound.fallbackName);
            }
        }
        LOG.info("management scheduler started: {} thread(s), {} more lent while runs hang; {} task service(s)",
                settings.threads, settings.hungThreadAllowance, waiting.size());
    }

    @Modified
    void modified(SchedulerConfiguration config) {
        Settings settings = Settings.of(config);
        SchedulerEngine current = engine;
        if (current != null) {
            current.resize(settings.threads, settings.hungThreadAllowance);
        }
        shutdownWait = settings.shutdownWait;
        LOG.info("management scheduler reconfigured: {} thread(s), {} more lent while runs hang", settings.threads,
                settings.hungThreadAllowance);
    }

    @Deactivate
    void deactivate() {
        SchedulerEngine stopping;
        synchronized (lock) {
            stopping = engine;
            engine = null;
            early.clear();
        }
        if (stopping != null) {
            boolean ended = stopping.close(shutdownWait);
            LOG.info("management scheduler stopped{}", ended ? "" : " (some runs had not returned)");
        }
    }

    @Reference(service = ManagementTask.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            updated = "updatedTask", unbind = "unbindTask")
    void bindTask(ServiceReference<ManagementTask> reference, ManagementTask task) {
        Bound bound = new Bound(serviceId(reference), bundleName(reference), task, properties(reference),
                task.getClass().getName());
        synchronized (lock) {
            SchedulerEngine current = engine;
            if (current == null) {
                early.put(bound.serviceId, bound);
                return;
            }
            current.add(bound.serviceId, bound.bundle, bound.task, bound.properties, bound.fallbackName);
        }
    }

    void updatedTask(ServiceReference<ManagementTask> reference) {
        long serviceId = serviceId(reference);
        Map<String, Object> properties = properties(reference);
        synchronized (lock) {
            SchedulerEngine current = engine;
            if (current == null) {
                Bound bound = early.get(serviceId);
                if (bound != null) {
                    early.put(serviceId, new Bound(serviceId, bound.bundle, bound.task, properties, bound.fallbackName));
                }
                return;
            }
            current.update(serviceId, properties);
        }
    }

    void unbindTask(ServiceReference<ManagementTask> reference) {
        long serviceId = serviceId(reference);
        synchronized (lock) {
            early.remove(serviceId);
            SchedulerEngine current = engine;
            if (current != null) {
                current.remove(serviceId);
            }
        }
    }

    @Override
    public List<ManagementTaskStatus> tasks() {
        SchedulerEngine current = engine;
        return current == null ? List.of() : current.tasks();
    }

    private static long serviceId(ServiceReference<?> reference) {
        return (Long) reference.getProperty(Constants.SERVICE_ID);
    }

    private static String bundleName(ServiceReference<?> reference) {
        Bundle bundle = reference.getBundle();
        return bundle == null ? "(unregistered)" : bundle.getSymbolicName() + " [" + bundle.getBundleId() + "]";
    }

    private static Map<String, Object> properties(ServiceReference<?> reference) {
        Map<String, Object> properties = new HashMap<>();
        for (String key : reference.getPropertyKeys()) {
            properties.put(key, reference.getProperty(key));
        }
        return properties;
    }

    private record Bound(long serviceId, String bundle, ManagementTask task, Map<String, Object> properties,
                         String fallbackName) {
    }

    /** Checked configuration; out-of-range values refuse activation with a message saying which. */
    private record Settings(int threads, int hungThreadAllowance, Duration shutdownWait) {
        static Settings of(SchedulerConfiguration config) {
            if (config.threads() < 1 || config.threads() > SchedulerConfiguration.MAX_THREADS) {
                throw new IllegalArgumentException(SchedulerConfiguration.PID + ": threads must be 1 to "
                        + SchedulerConfiguration.MAX_THREADS + ", is " + config.threads());
            }
            if (config.hungThreadAllowance() < 0 || config.hungThreadAllowance() > SchedulerConfiguration.MAX_THREADS) {
                throw new IllegalArgumentException(SchedulerConfiguration.PID + ": hungThreadAllowance must be 0 to "
                        + SchedulerConfiguration.MAX_THREADS + ", is " + config.hungThreadAllowance());
            }
            if (config.shutdownWaitSeconds() < 0) {
                throw new IllegalArgumentException(SchedulerConfiguration.PID
                        + ": shutdownWaitSeconds must not be negative, is " + config.shutdownWaitSeconds());
            }
            return new Settings(config.threads(), config.hungThreadAllowance(),
                    Duration.ofSeconds(config.shutdownWaitSeconds()));
        }
    }
}
