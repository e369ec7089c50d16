package dev.meshhub.policy.impl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.audit.AuditLog;
import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.PolicyAdministration;
import dev.meshhub.api.policy.SandboxMode;
import dev.meshhub.api.policy.SandboxPolicy;

/**
 * The default sandbox policy: every node runs STRICT with the configured allowlist, unless it is
 * granted something else one node at a time.
 *
 * <p>What decides a node's policy, first match wins:
 * <ol>
 * <li>an admin act ({@link #setMode}) for the node's id: audited before it takes effect, and held
 * in memory only. A hub restart, a bundle update or any new instance of this component forgets it,
 * and the node is STRICT again unless a configuration says otherwise (RELIABILITY 17: PERMISSIVE is
 * never restored silently);</li>
 * <li>a per-node configuration ({@value NodePolicyConfiguration#FACTORY_PID} factory) naming the
 * node's id, then one naming its name. A PERMISSIVE one takes effect once it has been audited
 * (actor {@code config:<pid>}); until the audit log is there to record it, the node stays STRICT.
 * When two configurations name the same node, STRICT wins;</li>
 * <li>STRICT with the allowlist of {@value DefaultPolicyConfiguration#PID}.</li>
 * </ol>
 *
 * <p>{@link #policyFor} answers from an immutable snapshot and a concurrent map: it never blocks.
 * Changes post {@link SandboxPolicy#TOPIC_CHANGED}.
 */
@Component(name = DefaultSandboxPolicy.NAME, configurationPid = DefaultPolicyConfiguration.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = {SandboxPolicy.class, PolicyAdministration.class}, immediate = true)
@Designate(ocd = DefaultPolicyConfiguration.class)
public final class DefaultSandboxPolicy implements SandboxPolicy, PolicyAdministration {

    /** The component's name, also the {@link NodePolicy#source()} of its answers. */
    static final String NAME = "dev.meshhub.policy.default";
    /** The audit action of every mode change. */
    static final String AUDIT_ACTION = "policy.set";
    /** The audit actor of a per-node configuration is this prefix and the configuration's PID. */
    static final String CONFIG_ACTOR_PREFIX = "config:";

    private static final Logger LOG = LoggerFactory.getLogger(DefaultSandboxPolicy.class);

    private final Revisions revisions = new Revisions();
    /** Orders admin acts by when they were asked for, whatever order their audits complete in. */
    private final AtomicLong requests = new AtomicLong();
    private final AtomicReference<AuditLog> auditLog = new AtomicReference<>();
    private final AtomicReference<EventAdmin> eventAdmin = new AtomicReference<>();
    /** Admin acts by node id. Never persisted: see the class comment. */
    private final ConcurrentMap<String, AdminAct> acts = new ConcurrentHashMap<>();

    private final Object lock = new Object();
    /** Valid per-node configurations by PID (sorted, so conflicts resolve the same way every time). */
    private final Map<String, ConfiguredNode> configured = new TreeMap<>();
    private List<String> defaultAllowlist = List.of();
    /** The default policy's allowedEnvironment; every node's, read by policyFor. */
    private volatile List<String> environment = List.of();
    private boolean active;
    /** What policyFor reads; replaced whole under {@link #lock}. Until activation: STRICT, nothing allowed. */
    private volatile Table table = new Table(List.of(), Map.of(), revisions.next());

    @Activate
    void activate(DefaultPolicyConfiguration config) {
        List<String> allowlist = read(config);
        environment = EnvironmentAllowlist.parse("allowedEnvironment", config.allowedEnvironment());
        synchronized (lock) {
            defaultAllowlist = allowlist;
            active = true;
            rebuild();
        }
        LOG.info("sandbox policy {} active: every node STRICT unless granted PERMISSIVE on its own; default allowlist {}",
                NAME, allowlist);
        auditPendingConfigurations();
    }

    @Modified
    void modified(DefaultPolicyConfiguration config) {
        // read() throws for an invalid configuration before anything changes: the running policy stays.
        List<String> allowlist = read(config);
        List<String> nextEnvironment = EnvironmentAllowlist.parse("allowedEnvironment", config.allowedEnvironment());
        boolean changed;
        synchronized (lock) {
            changed = !allowlist.equals(defaultAllowlist) || !nextEnvironment.equals(environment);
            environment = nextEnvironment;
            defaultAllowlist = allowlist;
            if (changed) {
                rebuild();
            }
        }
        if (changed) {
            LOG.info("sandbox policy {}: default allowlist is now {}, allowed environment {}", NAME, allowlist, nextEnvironment);
            post(null);
        }
    }

    @Deactivate
    void deactivate() {
        synchronized (lock) {
            active = false;
        }
        if (!acts.isEmpty()) {
            LOG.info("sandbox policy {} stopping: the admin acts it held ({} node(s)) end with it", NAME, acts.size());
        }
    }

    /**
     * Checks the configuration.
     *
     * @throws IllegalArgumentException for a default mode other than STRICT, or a malformed allowlist
     */
    static List<String> read(DefaultPolicyConfiguration config) {
        String mode = config.defaultMode() == null ? "" : config.defaultMode().trim();
        if (!DefaultPolicyConfiguration.DEFAULT_MODE.equalsIgnoreCase(mode)) {
            throw new IllegalArgumentException("defaultMode must be STRICT; grant PERMISSIVE per node with a "
                    + NodePolicyConfiguration.FACTORY_PID + " configuration (node=<id or name>, mode=PERMISSIVE,"
                    + " confirm=true) or an audited admin act (--confirm); got '" + mode + "'");
        }
        List<String> allowlist = Allowlist.parse("allowedExecutables", config.allowedExecutables());
        for (String launcher : Allowlist.launchers(allowlist)) {
            LOG.warn("{}: the default allowlist names '{}', which can run other programs; every STRICT node may then"
                    + " run almost anything", DefaultPolicyConfiguration.PID, launcher);
        }
        return allowlist;
    }

    @Override
    public NodePolicy policyFor(String nodeId, String nodeName) {
        Table current = table;
        Rule rule = null;
        if (nodeId != null) {
            rule = current.byNode().get(nodeId);
        }
        SandboxMode mode = rule == null ? SandboxMode.STRICT : rule.mode();
        List<String> allowlist = rule == null || rule.allowedExecutables() == null
                ? current.defaultAllowlist() : rule.allowedExecutables();
        long revision = current.revision();
        AdminAct act = nodeId == null ? null : acts.get(nodeId);
        if (act != null) {
            mode = act.mode();
            revision = Math.max(revision, act.revision());
        }
        return new NodePolicy(nodeId, mode, allowlist, revision, NAME, environment);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Refusals complete the stage exceptionally: {@link IllegalArgumentException} for a PERMISSIVE
     * without confirmation or a missing node or mode, {@link IllegalStateException} when no audit
     * log is there to record the change (or recording it fails). A request that changes nothing
     * completes with the node's policy as it is, unaudited. Otherwise the change is audited first
     * and takes effect when the audit record is durable.
     */
    @Override
    public CompletionStage<NodePolicy> setMode(String nodeId, String nodeName, SandboxMode mode, boolean confirmed,
            String actor) {
        if (nodeId == null || nodeId.isBlank()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("name the node (its id) whose mode to set"));
        }
        if (mode == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("name the mode: STRICT or PERMISSIVE"));
        }
        String label = label(nodeId, nodeName);
        if (mode == SandboxMode.PERMISSIVE && !confirmed) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("PERMISSIVE lets node " + label
                    + " run shell commands; confirm it explicitly (--confirm / --yes)"));
        }
        NodePolicy current = policyFor(nodeId, nodeName);
        if (current.mode() == mode) {
            return CompletableFuture.completedFuture(current);
        }
        AuditLog audit = auditLog.get();
        if (audit == null) {
            return CompletableFuture.failedFuture(
                    new IllegalStateException("cannot audit the change: the journal is not running"));
        }
        String who = actor == null || actor.isBlank() ? "unknown" : actor;
        String detail = current.mode() + " -> " + mode + (label.equals(nodeId) ? "" : " (name " + nodeName + ")");
        long request = requests.incrementAndGet();
        CompletionStage<Void> recorded;
        try {
            recorded = audit.record(who, AUDIT_ACTION, nodeId, detail);
        } catch (RuntimeException e) {
            recorded = CompletableFuture.failedFuture(e);
        }
        if (recorded == null) {
            recorded = CompletableFuture.failedFuture(new IllegalStateException("the audit log returned nothing"));
        }
        return recorded.handle((ignored, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                LOG.warn("mode of node {} not changed to {}: the audit record failed: {}", label, mode, cause.toString());
                throw new CompletionException(new IllegalStateException(
                        "cannot audit the change: " + cause.getMessage() + "; node " + label + " not changed", cause));
            }
            return apply(nodeId, nodeName, label, mode, request, who);
        });
    }

    private NodePolicy apply(String nodeId, String nodeName, String label, SandboxMode mode, long request, String actor) {
        // A later request wins even if its audit completed first.
        AdminAct applied = acts.compute(nodeId, (id, previous) -> previous != null && previous.request() > request
                ? previous : new AdminAct(mode, request, revisions.next()));
        if (applied.request() == request) {
            LOG.info("node {} is now {} by {} (audited; held in memory until the policy bundle or the hub restarts)",
                    label, mode, actor);
            post(nodeId);
        }
        return policyFor(nodeId, nodeName);
    }

    @Reference(name = "auditLog", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindAuditLog")
    void bindAuditLog(AuditLog log) {
        auditLog.set(log);
        auditPendingConfigurations();
    }

    void unbindAuditLog(AuditLog log) {
        auditLog.compareAndSet(log, null);
    }

    @Reference(name = "eventAdmin", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindEventAdmin")
    void bindEventAdmin(EventAdmin events) {
        eventAdmin.set(events);
    }

    void unbindEventAdmin(EventAdmin events) {
        eventAdmin.compareAndSet(events, null);
    }

    @Reference(name = "nodeSettings", service = NodeSettingComponent.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, unbind = "unbindNodeSetting", updated = "updatedNodeSetting")
    void bindNodeSetting(NodeSettingComponent component) {
        settingChanged(component.pid(), component.setting());
    }

    void updatedNodeSetting(NodeSettingComponent component) {
        settingChanged(component.pid(), component.setting());
    }

    void unbindNodeSetting(NodeSettingComponent component) {
        settingChanged(component.pid(), Optional.empty());
    }

    /** A per-node configuration came, changed or went (empty: went, or is not valid and was logged). */
    void settingChanged(String pid, Optional<NodeSetting> next) {
        boolean changed;
        boolean running;
        synchronized (lock) {
            ConfiguredNode before = configured.get(pid);
            if (next.isEmpty()) {
                changed = configured.remove(pid) != null;
            } else {
                NodeSetting setting = next.get();
                ConfiguredNode now = new ConfiguredNode(setting, auditState(before, setting));
                changed = !now.equals(before);
                configured.put(pid, now);
                if (changed) {
                    warnOnConflict(setting);
                }
            }
            running = active;
            if (changed && running) {
                rebuild();
            }
        }
        if (changed && running) {
            post(null);
            auditPendingConfigurations();
        }
    }

    /** A PERMISSIVE already granted to the same node stays granted through an edit, and is not audited again. */
    private static Audit auditState(ConfiguredNode before, NodeSetting setting) {
        if (setting.mode() != SandboxMode.PERMISSIVE) {
            return Audit.NOT_NEEDED;
        }
        boolean sameGrant = before != null && before.setting().mode() == SandboxMode.PERMISSIVE
                && before.setting().node().equals(setting.node());
        return sameGrant && before.audit() != Audit.NOT_NEEDED ? before.audit() : Audit.PENDING;
    }

    private void warnOnConflict(NodeSetting setting) {
        for (ConfiguredNode other : configured.values()) {
            if (!other.setting().pid().equals(setting.pid()) && other.setting().node().equals(setting.node())) {
                LOG.warn("per-node sandbox settings {} and {} both name node {}; the stricter applies",
                        other.setting().origin(), setting.origin(), setting.node());
            }
        }
    }

    /** Records every PERMISSIVE configuration not yet audited; each takes effect when its record is durable. */
    private void auditPendingConfigurations() {
        AuditLog audit = auditLog.get();
        List<NodeSetting> due = new ArrayList<>();
        synchronized (lock) {
            if (!active) {
                return;
            }
            for (Map.Entry<String, ConfiguredNode> entry : configured.entrySet()) {
                Audit state = entry.getValue().audit();
                if (audit != null && (state == Audit.PENDING || state == Audit.WAITING)) {
                    due.add(entry.getValue().setting());
                    entry.setValue(new ConfiguredNode(entry.getValue().setting(), Audit.IN_FLIGHT));
                } else if (audit == null && state == Audit.PENDING) {
                    // Said once per configuration, not at every change.
                    LOG.warn("{} grants node {} PERMISSIVE, but no audit log is running to record it: the node stays"
                            + " STRICT until the journal is up", entry.getValue().setting().origin(),
                            entry.getValue().setting().node());
                    entry.setValue(new ConfiguredNode(entry.getValue().setting(), Audit.WAITING));
                }
            }
        }
        for (NodeSetting setting : due) {
            CompletionStage<Void> recorded;
            try {
                recorded = audit.record(CONFIG_ACTOR_PREFIX + setting.pid(), AUDIT_ACTION, setting.node(),
                        SandboxMode.STRICT + " -> " + SandboxMode.PERMISSIVE);
            } catch (RuntimeException e) {
                recorded = CompletableFuture.failedFuture(e);
            }
            if (recorded == null) {
                recorded = CompletableFuture.failedFuture(new IllegalStateException("the audit log returned nothing"));
            }
            recorded.whenComplete((ignored, failure) -> configurationAudited(setting, failure));
        }
    }

    private void configurationAudited(NodeSetting setting, Throwable failure) {
        boolean granted = false;
        synchronized (lock) {
            ConfiguredNode current = configured.get(setting.pid());
            if (current == null || current.audit() != Audit.IN_FLIGHT || !current.setting().node().equals(setting.node())) {
                return; // changed or removed meanwhile; its own state decides
            }
            if (failure != null) {
                // Retried when an audit log is bound again or a configuration changes.
                configured.put(setting.pid(), new ConfiguredNode(current.setting(), Audit.PENDING));
            } else {
                configured.put(setting.pid(), new ConfiguredNode(current.setting(), Audit.DONE));
                if (active) {
                    rebuild();
                    granted = true;
                }
            }
        }
        if (failure != null) {
            LOG.warn("{} grants node {} PERMISSIVE, but recording it failed ({}): the node stays STRICT",
                    setting.origin(), setting.node(), failure.toString());
        } else if (granted) {
            LOG.info("node {} is PERMISSIVE by configuration {} (audited)", setting.node(), setting.origin());
            post(null);
        }
    }

    /** Builds the snapshot policyFor reads. Call with {@link #lock} held. */
    private void rebuild() {
        Map<String, Rule> byNode = new HashMap<>();
        for (ConfiguredNode node : configured.values()) {
            Rule rule = new Rule(node.effectiveMode(), node.setting().allowedExecutables());
            byNode.merge(node.setting().node(), rule,
                    (first, second) -> second.mode() == SandboxMode.STRICT && first.mode() != SandboxMode.STRICT
                            ? second : first);
        }
        table = new Table(defaultAllowlist, Map.copyOf(byNode), revisions.next());
    }

    private void post(String nodeId) {
        EventAdmin events = eventAdmin.get();
        if (events == null) {
            return;
        }
        Map<String, Object> properties = nodeId == null ? Map.of() : Map.of(NODE_ID, nodeId);
        try {
            events.postEvent(new Event(TOPIC_CHANGED, properties));
        } catch (RuntimeException e) {
            LOG.warn("could not post {}: {}", TOPIC_CHANGED, e.toString());
        }
    }

    private static String label(String nodeId, String nodeName) {
        return nodeName == null || nodeName.isBlank() || nodeName.equals(nodeId) ? nodeId : nodeName + " (" + nodeId + ")";
    }

    /**
     * Where a PERMISSIVE configuration is on its way to the audit log: not tried yet, waiting for an
     * audit log to appear, being recorded, recorded.
     */
    private enum Audit { NOT_NEEDED, PENDING, WAITING, IN_FLIGHT, DONE }

    private record ConfiguredNode(NodeSetting setting, Audit audit) {
        /** PERMISSIVE only once audited: an unaudited PERMISSIVE never takes effect. */
        SandboxMode effectiveMode() {
            return setting.mode() == SandboxMode.PERMISSIVE && audit == Audit.DONE ? SandboxMode.PERMISSIVE : SandboxMode.STRICT;
        }
    }

    /** A node's configured mode and own allowlist (null: the default one). */
    private record Rule(SandboxMode mode, List<String> allowedExecutables) {
    }

    /** An admin act: the mode, the order it was asked in, and the revision it took effect with. */
    private record AdminAct(SandboxMode mode, long request, long revision) {
    }

    private record Table(List<String> defaultAllowlist, Map<String, Rule> byNode, long revision) {
    }
}
