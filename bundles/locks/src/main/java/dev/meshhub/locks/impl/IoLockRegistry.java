package dev.meshhub.locks.impl;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockInfo;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.management.ManagementTask;

/**
 * The hub's {@link LockRegistry}, and the {@link ManagementTask} that sweeps its expired locks
 * (schedule name {@code lock-sweep}, every 30 seconds). The sweep is a backstop: holders release
 * their locks themselves, or with their owner when a node's stream ends.
 *
 * <p>There is no configuration of its own. The sweep's schedule is the component's
 * {@code meshhub.management.*} service properties, and Declarative Services merges configuration PID
 * {@value #PID} into them, so {@code meshhub.management.period = 10} in
 * {@code etc/dev.meshhub.locks.cfg} makes it sweep every 10 seconds; the scheduler reschedules at once.
 *
 * <p>Immediate, so the table lives as long as the bundle runs: a delayed component could be
 * deactivated between two users and forget locks someone still holds. Deactivation drops every lock.
 */
@Component(name = IoLockRegistry.PID, configurationPid = IoLockRegistry.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true,
        service = {LockRegistry.class, ManagementTask.class})
@ManagementTask.Schedule(name = IoLockRegistry.SWEEP_TASK, period = 30)
public final class IoLockRegistry implements LockRegistry, ManagementTask {

    /** The component's name and configuration PID. */
    static final String PID = "dev.meshhub.locks";
    /** The sweep's name in the scheduler's status and logs. */
    static final String SWEEP_TASK = "lock-sweep";

    private static final Logger LOG = LoggerFactory.getLogger(IoLockRegistry.class);

    private final LockTable table;

    /** The DS constructor: lock times come from the system clock, in UTC. */
    public IoLockRegistry() {
        this(Clock.systemUTC());
    }

    IoLockRegistry(Clock clock) {
        this.table = new LockTable(clock);
    }

    @Activate
    void activate(Map<String, Object> properties) {
        LOG.info("IO lock registry active; {} sweeps expired locks every {}", SWEEP_TASK, period(properties));
    }

    /**
     * Only the schedule can change, and the scheduler picks that up from the service properties
     * itself. Declared so that a changed .cfg file does not make DS reactivate the component, which
     * would drop every lock held.
     */
    @Modified
    void modified(Map<String, Object> properties) {
        LOG.info("IO lock registry reconfigured; {} sweeps expired locks every {}", SWEEP_TASK, period(properties));
    }

    @Deactivate
    void deactivate() {
        int dropped = table.close();
        if (dropped == 0) {
            LOG.info("IO lock registry stopped; no live locks");
        } else {
            LOG.warn("IO lock registry stopped; {} live lock(s) dropped, their holders no longer hold them", dropped);
        }
    }

    @Override
    public Optional<IoLock> tryAcquire(String key, String owner, Duration ttl) {
        return table.tryAcquire(key, owner, ttl);
    }

    @Override
    public int releaseAll(String owner) {
        return table.releaseAll(owner);
    }

    @Override
    public List<LockInfo> locks() {
        return table.locks();
    }

    @Override
    public LockStats stats() {
        return table.stats();
    }

    /** One sweep, on a scheduler thread: removes expired locks, logging each holder that leaked one. */
    @Override
    public void run() {
        int removed = table.sweep();
        LOG.debug("{}: {} expired lock(s) removed", SWEEP_TASK, removed);
    }

    /** For tests: the table behind the service. */
    LockTable table() {
        return table;
    }

    private static String period(Map<String, ?> properties) {
        Object unit = properties.get(ManagementTask.UNIT);
        return properties.get(ManagementTask.PERIOD) + " " + (unit == null ? "SECONDS" : unit);
    }
}
