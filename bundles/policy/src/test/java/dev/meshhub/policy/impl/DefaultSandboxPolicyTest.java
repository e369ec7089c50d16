package dev.meshhub.policy.impl;

import dev.meshhub.testing.TypedConfigs;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.osgi.service.event.Event;

import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.SandboxMode;
import dev.meshhub.api.policy.SandboxPolicy;

public class DefaultSandboxPolicyTest {

    private static final List<String> DEFAULT_ALLOWLIST = List.of("echo", "true", "false", "ls", "cat", "head", "tail",
            "wc", "uname", "whoami", "id", "df", "du", "uptime", "sleep", "pwd");

    private final RecordingAuditLog audit = new RecordingAuditLog();
    private final RecordingEventAdmin events = new RecordingEventAdmin();
    private DefaultSandboxPolicy policy;
    private ExecutorService pool;

    @Before
    public void start() {
        policy = activated(Map.of());
    }

    @After
    public void stop() {
        if (pool != null) {
            pool.shutdownNow();
        }
        policy.deactivate();
    }

    private DefaultSandboxPolicy activated(Map<String, ?> config) {
        DefaultSandboxPolicy component = new DefaultSandboxPolicy();
        component.bindAuditLog(audit);
        component.bindEventAdmin(events);
        component.activate(TypedConfigs.of(DefaultPolicyConfiguration.class, config));
        return component;
    }

    private static NodeSettingComponent nodeSetting(String pid, Map<String, ?> config) {
        Map<String, Object> properties = new HashMap<>(config);
        properties.put("service.pid", pid);
        properties.put("service.factoryPid", NodePolicyConfiguration.FACTORY_PID);
        properties.put(NodeSetting.FILEINSTALL_FILENAME, "file:/hub/etc/" + pid + ".cfg");
        NodeSettingComponent component = new NodeSettingComponent();
        component.activate(TypedConfigs.of(NodePolicyConfiguration.class, config), properties);
        return component;
    }

    private static Throwable failure(CompletionStage<?> stage) throws InterruptedException, TimeoutException {
        try {
            stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        fail("expected the stage to fail");
        return null;
    }

    private static <T> T result(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private List<Event> changeEvents() {
        List<Event> changes = new ArrayList<>();
        for (Event event : events.events) {
            if (event.getTopic().equals(SandboxPolicy.TOPIC_CHANGED)) {
                changes.add(event);
            }
        }
        return changes;
    }

    // --- defaults and the component's configuration ---

    @Test
    public void everyNodeIsStrictWithTheConservativeAllowlistByDefault() {
        NodePolicy answer = policy.policyFor("n1", "web1");

        assertEquals("n1", answer.nodeId());
        assertEquals(SandboxMode.STRICT, answer.mode());
        assertEquals(DEFAULT_ALLOWLIST, answer.allowedExecutables());
        assertEquals("dev.meshhub.policy.default", answer.source());
        for (String runsOthers : List.of("sh", "bash", "env", "xargs", "sudo", "nice", "timeout", "nohup")) {
            assertFalse(runsOthers, answer.allowedExecutables().contains(runsOthers));
        }
        assertTrue("every default entry is harmless", Allowlist.launchers(answer.allowedExecutables()).isEmpty());
        assertEquals(SandboxMode.STRICT, policy.policyFor(null, null).mode());
    }

    @Test
    public void aPermissiveDefaultModeIsRefusedAtActivation() {
        for (String mode : List.of("PERMISSIVE", "permissive", "LAX", "")) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> activated(Map.of("defaultMode", mode)));
            assertTrue(refused.getMessage(), refused.getMessage().startsWith(
                    "defaultMode must be STRICT; grant PERMISSIVE per node with "));
        }
        activated(Map.of("defaultMode", " strict ")).deactivate();
    }

    @Test
    public void aModifiedConfigurationThatIsInvalidChangesNothing() {
        assertThrows(IllegalArgumentException.class, () -> policy.modified(TypedConfigs.of(DefaultPolicyConfiguration.class,
                Map.of("defaultMode", "PERMISSIVE", "allowedExecutables", "sh"))));
        assertThrows(IllegalArgumentException.class, () -> policy.modified(TypedConfigs.of(DefaultPolicyConfiguration.class,
                Map.of("allowedExecutables", "bin/relative"))));

        assertEquals(DEFAULT_ALLOWLIST, policy.policyFor("n1", "web1").allowedExecutables());
        assertTrue(changeEvents().isEmpty());
    }

    @Test
    public void theEnvironmentAllowlistIsEmptyByDefaultAndEditableButNeverEverything() {
        assertEquals(List.of(), policy.policyFor("n1", "web1").allowedEnvironment());
        long before = policy.policyFor("n1", "web1").revision();

        policy.modified(TypedConfigs.of(DefaultPolicyConfiguration.class, Map.of("allowedEnvironment", "APP_*, RUST_LOG")));
        NodePolicy after = policy.policyFor("n1", "web1");
        assertEquals(List.of("APP_*", "RUST_LOG"), after.allowedEnvironment());
        assertTrue("nodes get the change", after.revision() > before);

        for (String bad : List.of("*", "A B", "1X", "X=1", "LC_*_X")) {
            IllegalArgumentException e = assertThrows(bad, IllegalArgumentException.class, () -> policy.modified(
                    TypedConfigs.of(DefaultPolicyConfiguration.class, Map.of("allowedEnvironment", bad))));
            assertTrue(e.getMessage(), e.getMessage().startsWith("allowedEnvironment: "));
        }
        assertEquals("a refused edit changes nothing", List.of("APP_*", "RUST_LOG"), policy.policyFor("n1", "web1").allowedEnvironment());
    }

    @Test
    public void anEditedAllowlistAppliesAndIsAnnounced() {
        long before = policy.policyFor("n1", "web1").revision();

        // A .cfg file gives one string; entries are separated by commas.
        policy.modified(TypedConfigs.of(DefaultPolicyConfiguration.class,
                Map.of("allowedExecutables", "echo, /usr/bin/uptime ,echo,,")));

        NodePolicy after = policy.policyFor("n1", "web1");
        assertEquals(List.of("echo", "/usr/bin/uptime"), after.allowedExecutables());
        assertTrue(after.revision() > before);
        assertEquals(1, changeEvents().size());
        assertNull(changeEvents().get(0).getProperty(SandboxPolicy.NODE_ID));
    }

    // --- per-node configurations ---

    @Test
    public void aPermissiveConfigurationWithoutConfirmIsIgnoredAndTheNodeStaysStrict() {
        NodeSettingComponent unconfirmed = nodeSetting("dev.meshhub.policy.node~web1",
                Map.of("node", "web1", "mode", "PERMISSIVE"));
        assertTrue(unconfirmed.setting().isEmpty());

        policy.bindNodeSetting(unconfirmed);

        NodePolicy answer = policy.policyFor("n1", "web1");
        assertEquals(SandboxMode.STRICT, answer.mode());
        assertEquals(DEFAULT_ALLOWLIST, answer.allowedExecutables());
        assertTrue(audit.rows.isEmpty());
    }

    @Test
    public void configurationsThatCannotBeReadAreIgnored() {
        List<Map<String, ?>> invalid = List.of(
                Map.of("node", "web1", "mode", "SOMETIMES", "confirm", "true"),
                Map.of("node", "  ", "mode", "PERMISSIVE", "confirm", "true"),
                Map.of("mode", "PERMISSIVE", "confirm", "true"),
                Map.of("node", "web1", "mode", "PERMISSIVE", "confirm", "yes please"),
                Map.of("node", "web1", "allowedExecutables", "echo, ../bin/x"));
        int i = 0;
        for (Map<String, ?> config : invalid) {
            NodeSettingComponent component = nodeSetting("dev.meshhub.policy.node~bad" + i++, config);
            assertTrue(config.toString(), component.setting().isEmpty());
            policy.bindNodeSetting(component);
        }

        NodePolicy answer = policy.policyFor("n1", "web1");
        assertEquals(SandboxMode.STRICT, answer.mode());
        assertEquals(DEFAULT_ALLOWLIST, answer.allowedExecutables());
        assertTrue(audit.rows.isEmpty());
    }

    @Test
    public void aConfirmedPermissiveConfigurationAppliesByIdOnlyAndIsAuditedOnce() {
        NodeSettingComponent byId = nodeSetting("dev.meshhub.policy.node~n1", Map.of("node", "n1", "mode", "PERMISSIVE",
                "confirm", "true"));
        NodeSettingComponent byName = nodeSetting("dev.meshhub.policy.node~web2", Map.of("node", "web2", "nodeId", "n2",
                "mode", "permissive", "confirm", true));
        NodeSettingComponent nameAlone = nodeSetting("dev.meshhub.policy.node~web3", Map.of("node", "web3",
                "mode", "PERMISSIVE", "confirm", true));

        policy.bindNodeSetting(byId);
        policy.bindNodeSetting(byName);
        policy.bindNodeSetting(nameAlone);
        // The same configuration delivered again (FileInstall rewrites, ConfigAdmin updates): no second record.
        policy.updatedNodeSetting(byId);
        byName.modified(TypedConfigs.of(NodePolicyConfiguration.class, Map.of("node", "web2", "nodeId", "n2", "mode", "PERMISSIVE",
                "confirm", true, "allowedExecutables", "ls")), Map.of("service.pid", "dev.meshhub.policy.node~web2",
                "allowedExecutables", "ls"));
        policy.updatedNodeSetting(byName);

        assertEquals(SandboxMode.PERMISSIVE, policy.policyFor("n1", "web1").mode());
        assertEquals(SandboxMode.PERMISSIVE, policy.policyFor("n2", "web2").mode());
        assertEquals("a name the node chose never selects a setting alone", SandboxMode.STRICT, policy.policyFor("n3", "web3").mode());
        assertEquals(SandboxMode.STRICT, policy.policyFor("n9", "web2").mode());
        assertEquals(List.of(
                new RecordingAuditLog.Row("config:dev.meshhub.policy.node~n1", "policy.set", "n1", "STRICT -> PERMISSIVE"),
                new RecordingAuditLog.Row("config:dev.meshhub.policy.node~web2", "policy.set", "n2", "STRICT -> PERMISSIVE"),
                new RecordingAuditLog.Row("config:dev.meshhub.policy.node~web3", "policy.set", "web3", "STRICT -> PERMISSIVE")),
                audit.rows);
        assertFalse(changeEvents().isEmpty());

        // Gone: the node is STRICT again.
        int eventsBefore = changeEvents().size();
        policy.unbindNodeSetting(byId);
        assertEquals(SandboxMode.STRICT, policy.policyFor("n1", "web1").mode());
        assertTrue(changeEvents().size() > eventsBefore);
    }

    @Test
    public void aPermissiveConfigurationTakesEffectOnlyOnceAudited() throws Exception {
        DefaultSandboxPolicy unaudited = new DefaultSandboxPolicy();
        unaudited.bindEventAdmin(events);
        unaudited.bindNodeSetting(nodeSetting("dev.meshhub.policy.node~web1", Map.of("node", "n1",
                "mode", "PERMISSIVE", "confirm", "true")));
        unaudited.activate(TypedConfigs.of(DefaultPolicyConfiguration.class, Map.of()));
        assertEquals("no audit log, no PERMISSIVE", SandboxMode.STRICT, unaudited.policyFor("n1", "web1").mode());

        audit.behaviour = RecordingAuditLog.Behaviour.HOLD;
        unaudited.bindAuditLog(audit);
        assertEquals(1, audit.rows.size());
        assertEquals("not yet durable", SandboxMode.STRICT, unaudited.policyFor("n1", "web1").mode());

        audit.held.get(0).complete(null);
        assertEquals(SandboxMode.PERMISSIVE, unaudited.policyFor("n1", "web1").mode());
        unaudited.deactivate();
    }

    @Test
    public void aConfigurationMayGiveANodeItsOwnAllowlist() {
        policy.bindNodeSetting(nodeSetting("dev.meshhub.policy.node~db1", Map.of("node", "db1", "nodeId", "n5",
                "allowedExecutables", "echo, /opt/db/bin/status")));
        policy.bindNodeSetting(nodeSetting("dev.meshhub.policy.node~locked", Map.of("node", "n9",
                "allowedExecutables", "")));

        NodePolicy db1 = policy.policyFor("n5", "db1");
        assertEquals(SandboxMode.STRICT, db1.mode());
        assertEquals(List.of("echo", "/opt/db/bin/status"), db1.allowedExecutables());
        assertEquals("an empty list allows nothing", List.of(), policy.policyFor("n9", "x").allowedExecutables());
        assertEquals(DEFAULT_ALLOWLIST, policy.policyFor("n6", "web6").allowedExecutables());
        assertTrue(audit.rows.isEmpty());
    }

    @Test
    public void whenTwoConfigurationsNameOneNodeTheStricterApplies() {
        policy.bindNodeSetting(nodeSetting("dev.meshhub.policy.node~a", Map.of("node", "n1", "mode", "PERMISSIVE",
                "confirm", "true")));
        policy.bindNodeSetting(nodeSetting("dev.meshhub.policy.node~b", Map.of("node", "web1", "nodeId", "n1", "mode", "STRICT")));

        assertEquals(SandboxMode.STRICT, policy.policyFor("n1", "web1").mode());
    }

    // --- the admin act ---

    @Test
    public void permissiveWithoutConfirmationIsRefused() throws Exception {
        Throwable refused = failure(policy.setMode("n1", "web1", SandboxMode.PERMISSIVE, false, "shell"));

        assertTrue(refused instanceof IllegalArgumentException);
        assertEquals("PERMISSIVE lets node web1 (n1) run shell commands; confirm it explicitly (--confirm / --yes)",
                refused.getMessage());
        assertEquals(SandboxMode.STRICT, policy.policyFor("n1", "web1").mode());
        assertTrue(audit.rows.isEmpty());
        assertTrue(changeEvents().isEmpty());
    }

    @Test
    public void aConfirmedChangeIsAuditedAppliedAndAnnounced() throws Exception {
        long before = policy.policyFor("n1", "web1").revision();

        NodePolicy after = result(policy.setMode("n1", "web1", SandboxMode.PERMISSIVE, true, "admin"));

        assertEquals(SandboxMode.PERMISSIVE, after.mode());
        assertTrue(after.revision() > before);
        assertEquals(after, policy.policyFor("n1", "web1"));
        assertEquals(List.of(new RecordingAuditLog.Row("admin", "policy.set", "n1", "STRICT -> PERMISSIVE (name web1)")),
                audit.rows);
        assertEquals(1, changeEvents().size());
        assertEquals("n1", changeEvents().get(0).getProperty(SandboxPolicy.NODE_ID));
        assertEquals("another node is untouched", SandboxMode.STRICT, policy.policyFor("n2", "web2").mode());

        NodePolicy back = result(policy.setMode("n1", "web1", SandboxMode.STRICT, false, "admin"));
        assertEquals(SandboxMode.STRICT, back.mode());
        assertTrue(back.revision() > after.revision());
        assertEquals(2, audit.rows.size());
        assertEquals("PERMISSIVE -> STRICT (name web1)", audit.rows.get(1).detail());

        // Nothing to change: nothing recorded.
        result(policy.setMode("n1", "web1", SandboxMode.STRICT, false, "admin"));
        assertEquals(2, audit.rows.size());
    }

    @Test
    public void withoutAnAuditLogAChangeIsRefused() throws Exception {
        policy.unbindAuditLog(audit);

        Throwable refused = failure(policy.setMode("n1", "web1", SandboxMode.PERMISSIVE, true, "admin"));

        assertTrue(refused instanceof IllegalStateException);
        assertEquals("cannot audit the change: the journal is not running", refused.getMessage());
        assertEquals(SandboxMode.STRICT, policy.policyFor("n1", "web1").mode());
        assertTrue(changeEvents().isEmpty());
    }

    @Test
    public void aChangeTakesEffectOnlyWhenItsAuditRecordIsDurable() throws Exception {
        audit.behaviour = RecordingAuditLog.Behaviour.HOLD;
        CompletionStage<NodePolicy> pending = policy.setMode("n1", null, SandboxMode.PERMISSIVE, true, "admin");
        assertEquals(SandboxMode.STRICT, policy.policyFor("n1", "web1").mode());
        assertFalse(pending.toCompletableFuture().isDone());

        audit.held.get(0).complete(null);
        assertEquals(SandboxMode.PERMISSIVE, result(pending).mode());

        audit.behaviour = RecordingAuditLog.Behaviour.FAIL;
        Throwable refused = failure(policy.setMode("n1", null, SandboxMode.STRICT, false, "admin"));
        assertTrue(refused instanceof IllegalStateException);
        assertTrue(refused.getMessage(), refused.getMessage().startsWith("cannot audit the change: disk full"));
        assertEquals(SandboxMode.PERMISSIVE, policy.policyFor("n1", "web1").mode());
    }

    @Test
    public void requestsApplyInTheOrderAskedWhateverOrderTheirAuditsComplete() throws Exception {
        audit.behaviour = RecordingAuditLog.Behaviour.HOLD;
        CompletionStage<NodePolicy> first = policy.setMode("n1", null, SandboxMode.PERMISSIVE, true, "admin");
        policy.setMode("n1", null, SandboxMode.PERMISSIVE, true, "admin");
        // Both asked while the node was STRICT; the second completes first, then the first.
        audit.held.get(1).complete(null);
        audit.held.get(0).complete(null);
        assertEquals(SandboxMode.PERMISSIVE, result(first).mode());
        assertEquals(1, changeEvents().size());
    }

    @Test
    public void anAdminActWinsOverAConfigurationAndEndsWithTheComponent() throws Exception {
        policy.bindNodeSetting(nodeSetting("dev.meshhub.policy.node~web1", Map.of("node", "web1", "nodeId", "n1", "mode", "PERMISSIVE",
                "confirm", "true")));
        assertEquals(SandboxMode.PERMISSIVE, policy.policyFor("n1", "web1").mode());

        result(policy.setMode("n1", "web1", SandboxMode.STRICT, false, "admin"));
        assertEquals(SandboxMode.STRICT, policy.policyFor("n1", "web1").mode());

        result(policy.setMode("n2", "web2", SandboxMode.PERMISSIVE, true, "admin"));
        assertEquals(SandboxMode.PERMISSIVE, policy.policyFor("n2", "web2").mode());
    }

    @Test
    public void aRuntimeActIsLostOnRestart() throws Exception {
        result(policy.setMode("n1", "web1", SandboxMode.PERMISSIVE, true, "admin"));
        assertEquals(SandboxMode.PERMISSIVE, policy.policyFor("n1", "web1").mode());
        policy.deactivate();

        // A hub restart or a bundle update: a new instance of the component.
        policy = activated(Map.of());

        NodePolicy answer = policy.policyFor("n1", "web1");
        assertEquals(SandboxMode.STRICT, answer.mode());
        assertEquals(DEFAULT_ALLOWLIST, answer.allowedExecutables());
    }

    @Test
    public void concurrentReadersSeeConsistentPoliciesWithGrowingRevisions() throws Exception {
        pool = Executors.newFixedThreadPool(6);
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> readers = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            readers.add(pool.submit(() -> {
                go.await();
                long last = Long.MIN_VALUE;
                while (!stop.get()) {
                    NodePolicy answer = policy.policyFor("n1", "web1");
                    assertTrue("revision went back", answer.revision() >= last);
                    last = answer.revision();
                    assertTrue(answer.allowedExecutables().contains("echo"));
                }
                return null;
            }));
        }
        List<Future<?>> writers = new ArrayList<>();
        writers.add(pool.submit(() -> {
            go.await();
            for (int i = 0; i < 200; i++) {
                result(policy.setMode("n1", "web1", i % 2 == 0 ? SandboxMode.PERMISSIVE : SandboxMode.STRICT, true, "admin"));
            }
            return null;
        }));
        writers.add(pool.submit(() -> {
            go.await();
            for (int i = 0; i < 200; i++) {
                policy.bindNodeSetting(nodeSetting("dev.meshhub.policy.node~web1", Map.of("node", "web1",
                        "mode", i % 2 == 0 ? "PERMISSIVE" : "STRICT", "confirm", "true")));
                policy.modified(TypedConfigs.of(DefaultPolicyConfiguration.class,
                        Map.of("allowedExecutables", i % 2 == 0 ? "echo, ls" : "echo")));
            }
            return null;
        }));
        go.countDown();
        for (Future<?> writer : writers) {
            writer.get(30, TimeUnit.SECONDS);
        }
        stop.set(true);
        for (Future<?> reader : readers) {
            reader.get(30, TimeUnit.SECONDS);
        }
        assertEquals("the last request wins", SandboxMode.STRICT, policy.policyFor("n1", "web1").mode());
    }
}
