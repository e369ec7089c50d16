package dev.meshhub.locks.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import dev.meshhub.api.lock.IoLock;
import dev.meshhub.api.lock.LockInfo;
import dev.meshhub.api.management.ManagementTask;

public class IoLockRegistryTest {

    private static final Map<String, Object> SCHEDULE = Map.of(ManagementTask.PERIOD, 30L, ManagementTask.UNIT, "SECONDS");

    private final ManualClock clock = new ManualClock();
    private final IoLockRegistry registry = new IoLockRegistry(clock);

    @Test
    public void theServiceIsTheTableAndEachRunSweeps() {
        registry.activate(SCHEDULE);
        IoLock upload = registry.tryAcquire("mirror/n1/app.log", "sync s1 of node n1", Duration.ofSeconds(30)).orElseThrow();
        registry.tryAcquire("mirror/n1/db.log", "sync s2 of node n1", Duration.ofMinutes(5)).orElseThrow();
        assertTrue(registry.tryAcquire("mirror/n1/app.log", "sync s3 of node n1", Duration.ofSeconds(30)).isEmpty());
        assertEquals(List.of("mirror/n1/app.log", "mirror/n1/db.log"),
                registry.locks().stream().map(LockInfo::key).toList());

        clock.advance(Duration.ofSeconds(31));
        registry.run();

        assertFalse(upload.isHeld());
        assertEquals(1, registry.stats().live());
        assertEquals(1, registry.stats().expired());
        assertEquals(1, registry.releaseAll("sync s2 of node n1"));
        assertEquals(0, registry.table().keyCount());
    }

    @Test
    public void deactivationDropsEveryLockAndRefusesNewOnes() {
        registry.activate(SCHEDULE);
        IoLock held = registry.tryAcquire("k", "o", Duration.ofMinutes(1)).orElseThrow();

        registry.deactivate();

        assertFalse(held.isHeld());
        assertEquals(0, registry.table().keyCount());
        assertThrows(IllegalStateException.class, () -> registry.tryAcquire("k", "o", Duration.ofMinutes(1)));
    }

    /**
     * What the scheduler and DS see: bnd writes the descriptor from the annotations at build time, and
     * the sweep's period must be there as a service property that dev.meshhub.locks.cfg can override.
     */
    @Test
    public void theComponentOffersBothServicesAndTheSweepSchedule() throws Exception {
        String xml;
        try (InputStream in = IoLockRegistry.class.getClassLoader().getResourceAsStream("OSGI-INF/dev.meshhub.locks.xml")) {
            assertNotNull("bnd wrote no OSGI-INF/dev.meshhub.locks.xml", in);
            xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(xml, xml.contains("configuration-pid=\"dev.meshhub.locks\""));
        assertTrue(xml, xml.contains("configuration-policy=\"optional\""));
        assertTrue(xml, xml.contains("immediate=\"true\""));
        assertTrue("a configuration change must not reactivate (and empty) the table: " + xml,
                xml.contains("modified=\"modified\""));
        assertTrue(xml, xml.contains("<provide interface=\"dev.meshhub.api.lock.LockRegistry\"/>"));
        assertTrue(xml, xml.contains("<provide interface=\"dev.meshhub.api.management.ManagementTask\"/>"));
        assertTrue(xml, xml.contains("<property name=\"meshhub.management.name\" type=\"String\" value=\"lock-sweep\"/>"));
        assertTrue(xml, xml.contains("<property name=\"meshhub.management.period\" type=\"Long\" value=\"30\"/>"));
        assertTrue(xml, xml.contains("<property name=\"meshhub.management.unit\" type=\"String\" value=\"SECONDS\"/>"));
    }
}
