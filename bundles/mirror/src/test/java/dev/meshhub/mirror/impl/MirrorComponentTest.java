package dev.meshhub.mirror.impl;

import dev.meshhub.testing.TypedConfigs;
import static dev.meshhub.mirror.impl.FixedEnrollmentStore.revoked;
import static dev.meshhub.mirror.impl.MirrorFixture.age;
import static dev.meshhub.mirror.impl.MirrorFixture.content;
import static dev.meshhub.mirror.impl.MirrorFixture.refused;
import static dev.meshhub.mirror.impl.MirrorFixture.sha256;
import static dev.meshhub.mirror.impl.MirrorFixture.write;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.mirror.MirrorException.Reason;
import dev.meshhub.api.mirror.MirrorUpload;

public class MirrorComponentTest {

    @Rule
    public final TemporaryFolder folder = new TemporaryFolder();

    private Path home;
    private MirrorComponent component;

    @Before
    public void setUp() throws Exception {
        home = folder.newFolder("home").toPath();
        component = new MirrorComponent(Clock.systemUTC());
    }

    @After
    public void tearDown() {
        component.deactivate();
    }

    private static MirrorConfiguration config(Object... keyValues) {
        Map<String, Object> values = new HashMap<>();
        values.put("reserveBytes", 0L);
        for (int i = 0; i < keyValues.length; i += 2) {
            values.put((String) keyValues[i], keyValues[i + 1]);
        }
        return TypedConfigs.of(MirrorConfiguration.class, values);
    }

    @Test
    public void defaultsResolveUnderMeshhubHome() {
        MirrorSettings settings = MirrorSettings.resolve(TypedConfigs.of(MirrorConfiguration.class, Map.of()),
                home.toString(), Path.of("/elsewhere"));
        assertEquals(home.resolve("data/mirror"), settings.root());
        assertEquals(10L * 1024 * 1024 * 1024, settings.quotaBytes());
        assertEquals(1024L * 1024 * 1024, settings.reserveBytes());
        assertEquals(Duration.ofMinutes(1440), settings.partialTtl());
        assertTrue(settings.removeRevokedMirrors());
    }

    @Test
    public void aRelativeHomeAndAnAbsoluteDirectoryResolveAsTheJournalsDo() {
        Path work = home.getParent();
        assertEquals(work.resolve("rel/data/mirror"), MirrorSettings.resolve(
                TypedConfigs.of(MirrorConfiguration.class, Map.of()), "rel", work).root());
        assertEquals(work.resolve("data/mirror"), MirrorSettings.resolve(
                TypedConfigs.of(MirrorConfiguration.class, Map.of()), null, work).root());
        assertEquals(Path.of("/srv/mirror"), MirrorSettings.resolve(
                TypedConfigs.of(MirrorConfiguration.class, Map.of("mirrorDirectory", "/srv/mirror")), "rel", work).root());
    }

    @Test
    public void invalidConfigurationStopsActivationWithAClearMessage() {
        invalid("quotaBytes must be at least 1, got 0", "quotaBytes", 0L);
        invalid("reserveBytes must be 0 or more, got -1", "reserveBytes", -1L);
        invalid("partialTtlMinutes must be between 1 and 527040, got 0", "partialTtlMinutes", 0L);
        invalid("partialTtlMinutes must be between 1 and 527040, got " + Long.MAX_VALUE, "partialTtlMinutes",
                Long.MAX_VALUE);
        invalid("mirrorDirectory must not be empty", "mirrorDirectory", " ");
        invalid("mirrorDirectory is not a valid path", "mirrorDirectory", "a\u0000b");
    }

    private void invalid(String expected, String key, Object value) {
        try {
            new MirrorComponent().start(home.toString(), config(key, value));
            fail("accepted " + key + " = " + value);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("dev.meshhub.mirror: " + expected));
        }
    }

    @Test
    public void servesUploadsUnderHome() throws Exception {
        component.start(home.toString(), config());
        byte[] bytes = content(1000, 1);
        try (MirrorUpload upload = component.openUpload("n-1", "a/b", bytes.length)) {
            write(upload, bytes, 0, bytes.length, 300);
            upload.finish(bytes.length, sha256(bytes));
        }
        assertEquals(home.resolve("data/mirror/n-1"), component.nodeRoot("n-1"));
        assertTrue(Files.exists(home.resolve("data/mirror/n-1/a/b")));
        assertEquals(1000, component.usage("n-1").bytes());
        assertEquals("a/b", component.checkPath("a/b"));
    }

    @Test
    public void newLimitsApplyToOpenUploadsAtOnce() throws Exception {
        component.start(home.toString(), config());
        MirrorUpload upload = component.openUpload("n-1", "f", -1);
        upload.write(0, ByteBuffer.wrap(new byte[100]));
        component.modified(config("quotaBytes", 150L));
        refused(Reason.QUOTA_EXCEEDED, () -> upload.write(100, ByteBuffer.wrap(new byte[100])));
        upload.write(100, ByteBuffer.wrap(new byte[50]));
        assertEquals(150, component.usage("n-1").quotaBytes());
        upload.close();
    }

    @Test
    public void anInvalidUpdateKeepsThePreviousConfiguration() throws Exception {
        component.start(home.toString(), config("quotaBytes", 150L));
        try {
            component.modified(config("quotaBytes", -5L));
            fail("accepted a negative quota");
        } catch (IllegalArgumentException expected) {
            // The previous configuration stays in force.
        }
        assertEquals(150, component.usage("n-1").quotaBytes());
    }

    @Test
    public void aNewDirectoryClosesUploadsOpenInTheOldOne() throws Exception {
        component.start(home.toString(), config());
        MirrorUpload upload = component.openUpload("n-1", "f", -1);
        upload.write(0, ByteBuffer.wrap(new byte[10]));
        component.modified(config("mirrorDirectory", "other"));
        refused(Reason.IO, () -> upload.write(10, ByteBuffer.wrap(new byte[10])));
        assertEquals(home.resolve("other/n-1"), component.nodeRoot("n-1"));
        try (MirrorUpload fresh = component.openUpload("n-1", "f", -1)) {
            assertEquals(0, fresh.offset());
        }
    }

    @Test
    public void deactivationClosesOpenUploadsAndKeepsTheirPartials() throws Exception {
        component.start(home.toString(), config());
        MirrorUpload upload = component.openUpload("n-1", "f", -1);
        upload.write(0, ByteBuffer.wrap(new byte[10]));
        component.deactivate();
        refused(Reason.IO, () -> upload.write(10, ByteBuffer.wrap(new byte[10])));
        component = new MirrorComponent();
        component.start(home.toString(), config());
        try (MirrorUpload resumed = component.openUpload("n-1", "f", -1)) {
            assertEquals(10, resumed.offset());
        }
    }

    @Test
    public void cleanupTaskRemovesRevokedMirrorsOnlyWithAnEnrollmentStore() throws Exception {
        component.start(home.toString(), config());
        byte[] bytes = content(100, 2);
        try (MirrorUpload upload = component.openUpload("n-2", "a", bytes.length)) {
            write(upload, bytes, 0, bytes.length, 100);
            upload.finish(bytes.length, sha256(bytes));
        }
        try (MirrorUpload upload = component.openUpload("n-1", "stale", -1)) {
            upload.write(0, ByteBuffer.wrap(new byte[10]));
        }
        Path stale = home.resolve("data/mirror/.partial/n-1").resolve(DiskMirror.partialName("stale")
                + DiskMirror.PARTIAL_SUFFIX);
        age(stale, Duration.ofDays(2));

        component.run();
        assertFalse("stale partials go without an enrollment store too", Files.exists(stale));
        assertTrue("revoked mirrors wait for the enrollment store", Files.exists(home.resolve("data/mirror/n-2/a")));

        component.enrollmentStore = new FixedEnrollmentStore(revoked("n-2"));
        component.run();
        assertFalse(Files.exists(home.resolve("data/mirror/n-2")));
    }

    @Test
    public void byteSizesReadTheWayAnAdminExpects() {
        assertEquals("0 bytes", ByteSizes.format(0));
        assertEquals("1 byte", ByteSizes.format(1));
        assertEquals("1023 bytes", ByteSizes.format(1023));
        assertEquals("1 KiB", ByteSizes.format(1024));
        assertEquals("1.5 MiB", ByteSizes.format(1536 * 1024));
        assertEquals("10 GiB", ByteSizes.format(10L << 30));
        assertEquals("12.5 GiB", ByteSizes.format((25L << 30) / 2));
        assertEquals("8 EiB", ByteSizes.format(Long.MAX_VALUE));
        assertEquals("-1 KiB", ByteSizes.format(-1024));
    }
}
