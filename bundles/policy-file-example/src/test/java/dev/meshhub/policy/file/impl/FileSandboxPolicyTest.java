package dev.meshhub.policy.file.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;

import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.SandboxMode;
import dev.meshhub.api.policy.SandboxPolicy;

public class FileSandboxPolicyTest {

    @Rule
    public final TemporaryFolder folder = new TemporaryFolder();

    /** The policy's clock: time passes only when a test says so. */
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    /** Checks handed to the pool; a test runs them when it wants to. */
    private final Queue<Runnable> checks = new ConcurrentLinkedQueue<>();
    private final List<Event> events = new CopyOnWriteArrayList<>();
    private Path home;
    private Path file;
    private FileSandboxPolicy policy;

    @Before
    public void setUp() throws IOException {
        home = folder.newFolder("meshhub").toPath();
        Files.createDirectories(home.resolve("etc"));
        file = home.resolve("etc/node-allowlists.properties");
        policy = new FileSandboxPolicy(nanos::get, checks::add);
        policy.bindEventAdmin(new EventAdmin() {
            @Override
            public void postEvent(Event event) {
                events.add(event);
            }

            @Override
            public void sendEvent(Event event) {
                events.add(event);
            }
        });
    }

    @After
    public void tearDown() {
        policy.deactivate();
    }

    private static FilePolicyConfiguration config(String file) {
        return new FilePolicyConfiguration() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return FilePolicyConfiguration.class;
            }

            @Override
            public String file() {
                return file;
            }
        };
    }

    private void write(Path target, String content, long secondsLater) throws IOException {
        Files.writeString(target, content, StandardCharsets.UTF_8);
        // A later modification time, as an edit would have, instead of sleeping past the file system's granularity.
        Files.setLastModifiedTime(target, FileTime.fromMillis(System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(secondsLater)));
    }

    /** Lets a second pass, asks once (which hands a check to the pool), and runs the check. */
    private void nextSecond() {
        nanos.addAndGet(FileSandboxPolicy.CHECK_INTERVAL_NANOS);
        policy.policyFor("any", "any");
        Runnable check;
        while ((check = checks.poll()) != null) {
            check.run();
        }
    }

    @Test
    public void everyNodeIsStrictWithTheAllowlistTheFileGivesIt() throws IOException {
        write(file, "n-000000000001 = echo, uptime\nweb2@n-000000000002 = ls\n* = echo\n", 0);
        policy.start(home.toString(), config(FilePolicyConfiguration.DEFAULT_FILE));

        NodePolicy byId = policy.policyFor("n-000000000001", "web1");
        assertEquals(SandboxMode.STRICT, byId.mode());
        assertEquals(List.of("echo", "uptime"), byId.allowedExecutables());
        assertEquals("dev.meshhub.policy.file", byId.source());
        assertEquals("n-000000000001", byId.nodeId());
        assertEquals("by name@id", List.of("ls"), policy.policyFor("n-000000000002", "web2").allowedExecutables());
        assertEquals("a node that chose the name web2 gets nothing of its line", List.of("echo"),
                policy.policyFor("n-000000000009", "web2").allowedExecutables());
        assertEquals("the id's line names another node: nothing", List.of(), policy.policyFor("n-000000000002", "web9").allowedExecutables());
        assertEquals("'*' for the others", List.of("echo"), policy.policyFor("n-000000000003", "web3").allowedExecutables());
    }

    @Test
    public void anUnknownNodeMayRunNothingWithoutAStarLine() throws IOException {
        write(file, "web2@n-000000000002 = ls\n", 0);
        policy.start(home.toString(), config(file.toString()));

        NodePolicy unknown = policy.policyFor("n-000000000003", "web3");
        assertEquals(SandboxMode.STRICT, unknown.mode());
        assertEquals(List.of(), unknown.allowedExecutables());
    }

    @Test
    public void aFileThatCannotBeReadAllowsNothing() throws IOException {
        policy.start(home.toString(), config("etc/missing.properties"));
        assertEquals(List.of(), policy.policyFor("n-000000000001", "web1").allowedExecutables());
        assertEquals(SandboxMode.STRICT, policy.policyFor("n-000000000001", "web1").mode());

        write(file, "* = echo\nthis line is broken\n", 0);
        policy.modified(config(FilePolicyConfiguration.DEFAULT_FILE));
        assertEquals("unparsable, and nothing good before", List.of(), policy.policyFor("n-000000000001", "web1").allowedExecutables());
    }

    @Test
    public void anEditIsPickedUpByTheNextCheckAndAnnounced() throws IOException {
        write(file, "* = echo\n", 0);
        policy.start(home.toString(), config(FilePolicyConfiguration.DEFAULT_FILE));
        NodePolicy before = policy.policyFor("n-000000000001", "web1");

        write(file, "* = echo, ls\n", 10);
        assertEquals("no check before a second has passed", List.of("echo"), policy.policyFor("n-000000000001", "web1").allowedExecutables());
        assertTrue(checks.isEmpty());

        nextSecond();

        NodePolicy after = policy.policyFor("n-000000000001", "web1");
        assertEquals(List.of("echo", "ls"), after.allowedExecutables());
        assertTrue(after.revision() > before.revision());
        assertEquals(1, events.size());
        assertEquals(SandboxPolicy.TOPIC_CHANGED, events.get(0).getTopic());
        assertEquals(null, events.get(0).getProperty(SandboxPolicy.NODE_ID));

        // Touched, not changed: read again, but nothing to announce.
        write(file, "* = echo, ls\n", 20);
        nextSecond();
        assertEquals(after.revision(), policy.policyFor("n-000000000001", "web1").revision());
        assertEquals(1, events.size());
    }

    @Test
    public void aBrokenEditKeepsTheLastGoodCopy() throws IOException {
        write(file, "web1@n-000000000001 = echo, ls\n", 0);
        policy.start(home.toString(), config(FilePolicyConfiguration.DEFAULT_FILE));

        write(file, "web1@n-000000000001 = echo, ls\nn-000000000001 = sh\n", 10);
        nextSecond();
        assertEquals(List.of("echo", "ls"), policy.policyFor("n-000000000001", "web1").allowedExecutables());

        Files.delete(file);
        nextSecond();
        assertEquals(List.of("echo", "ls"), policy.policyFor("n-000000000001", "web1").allowedExecutables());
        assertTrue(events.isEmpty());

        write(file, "web1@n-000000000001 = echo\n", 20);
        nextSecond();
        assertEquals("readable again", List.of("echo"), policy.policyFor("n-000000000001", "web1").allowedExecutables());
        assertEquals(1, events.size());
    }

    @Test
    public void theFileIsCheckedAtMostOnceASecond() throws IOException {
        write(file, "* = echo\n", 0);
        policy.start(home.toString(), config(FilePolicyConfiguration.DEFAULT_FILE));

        for (int i = 0; i < 1_000; i++) {
            policy.policyFor("n-" + i, null);
        }
        assertEquals(0, checks.size());

        nanos.addAndGet(FileSandboxPolicy.CHECK_INTERVAL_NANOS);
        for (int i = 0; i < 1_000; i++) {
            policy.policyFor("n-" + i, null);
        }
        assertEquals(1, checks.size());

        nanos.addAndGet(FileSandboxPolicy.CHECK_INTERVAL_NANOS);
        policy.policyFor("n-000000000001", null);
        assertEquals("not while one is still queued or running", 1, checks.size());
    }

    @Test
    public void aNewFileFromTheConfigurationIsReadAtOnce() throws IOException {
        write(file, "* = echo\n", 0);
        Path other = home.resolve("etc/other.properties");
        write(other, "* = uptime\n", 0);
        policy.start(home.toString(), config(FilePolicyConfiguration.DEFAULT_FILE));

        policy.modified(config(other.toString()));

        assertEquals(List.of("uptime"), policy.policyFor("n-000000000001", "web1").allowedExecutables());
        assertEquals(1, events.size());
    }
}
