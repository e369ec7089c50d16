package dev.meshhub.cli;

import dev.meshhub.proto.v1.GetPolicyRequest;
import dev.meshhub.proto.v1.PolicyInfo;
import dev.meshhub.proto.v1.SandboxPolicy;
import dev.meshhub.proto.v1.SetPolicyRequest;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code meshctl policy get|set}: a node's sandbox policy. */
@Command(name = "policy", mixinStandardHelpOptions = true, description = "Shows or changes a node's sandbox policy.",
        subcommands = {PolicyCommand.Get.class, PolicyCommand.Set.class})
final class PolicyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: get or set");
    }

    /** "strict", "permissive"; "unspecified" for 0 (which nodes treat as strict). */
    static String mode(SandboxPolicy.Mode mode) {
        switch (mode) {
            case STRICT: return "strict";
            case PERMISSIVE: return "permissive";
            case MODE_UNSPECIFIED: return "unspecified";
            default: return "unknown";
        }
    }

    static String nodeLabel(PolicyInfo p, String asked) {
        String name = p.getNodeName().isEmpty() ? asked : p.getNodeName();
        return p.getNodeId().isEmpty() || p.getNodeId().equals(name)
                ? Table.word(name) : Table.word(name) + " (" + Table.word(p.getNodeId()) + ")";
    }

    /** The text form of {@code policy get}. */
    static String text(PolicyInfo p, String asked) {
        SandboxPolicy policy = p.getPolicy();
        StringBuilder b = new StringBuilder(Table.render(java.util.List.of(
                new String[] {"node", nodeLabel(p, asked)},
                new String[] {"mode", policy.getMode() == SandboxPolicy.Mode.MODE_UNSPECIFIED
                        ? "unspecified (treated as strict)" : mode(policy.getMode())},
                new String[] {"revision", Long.toUnsignedString(policy.getRevision())},
                new String[] {"source", Table.text(p.getSource(), Integer.MAX_VALUE)})));
        if (policy.getAllowedExecutablesCount() == 0) {
            b.append("allowed executables: (none)\n");
        } else {
            b.append("allowed executables:\n");
            for (String exe : policy.getAllowedExecutablesList()) {
                b.append("  ").append(Table.text(exe, Integer.MAX_VALUE)).append('\n');
            }
        }
        return b.toString();
    }

    /** {node, nodeId, mode, revision, source, allowedExecutables[]}. */
    static String json(PolicyInfo p) {
        SandboxPolicy policy = p.getPolicy();
        JsonWriter w = new JsonWriter().beginObject()
                .name("node").value(p.getNodeName().isEmpty() ? null : p.getNodeName())
                .name("nodeId").value(p.getNodeId())
                .name("mode").value(mode(policy.getMode()))
                .name("revision").value(policy.getRevision())
                .name("source").value(p.getSource().isEmpty() ? null : p.getSource())
                .name("allowedExecutables").beginArray();
        for (String exe : policy.getAllowedExecutablesList()) {
            w.value(exe);
        }
        return w.endArray().endObject().toJson() + "\n";
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Shows the sandbox policy a node runs under: mode, revision, the deciding policy service"
                    + " and the allowed executables.")
    static final class Get implements Callable<Integer> {

        @Parameters(paramLabel = "NODE", description = "The node's id (n-...) or name.")
        String node;

        @Option(names = "--json", description = "Print a JSON object instead of text.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            MeshCtl root = MeshCtl.root(spec);
            PolicyInfo policy;
            try (AdminClient client = root.connect()) {
                policy = client.call(stub -> stub.getPolicy(GetPolicyRequest.newBuilder().setNode(node).build()));
            }
            root.out().print(json ? PolicyCommand.json(policy) : text(policy, node));
            root.out().flush();
            return 0;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Changes a node's sandbox mode (audited by the hub).",
                "strict: argv commands only, executables on the allowlist, no shell.",
                "permissive: shell commands too (meshctl exec --shell); needs --yes."})
    static final class Set implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "NODE", description = "The node's id (n-...) or name.")
        String node;

        @Parameters(index = "1", paramLabel = "MODE", converter = ModeConverter.class,
                description = "strict or permissive.")
        SandboxPolicy.Mode mode;

        @Option(names = "--yes", description = "Confirm (required for permissive).")
        boolean yes;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if (mode == SandboxPolicy.Mode.PERMISSIVE && !yes) {
                throw new CliException(CliException.USAGE,
                        "PERMISSIVE lets " + node + " run shell commands; add --yes to confirm");
            }
            MeshCtl root = MeshCtl.root(spec);
            SetPolicyRequest request = SetPolicyRequest.newBuilder().setNode(node).setMode(mode).setConfirm(yes).build();
            PolicyInfo policy;
            try (AdminClient client = root.connect()) {
                policy = client.call(stub -> stub.setPolicy(request));
            }
            root.out().println("policy of " + nodeLabel(policy, node) + " is now " + mode(policy.getPolicy().getMode())
                    + " (revision " + Long.toUnsignedString(policy.getPolicy().getRevision()) + ")");
            return 0;
        }
    }

    /** strict | permissive, any case. */
    static final class ModeConverter implements CommandLine.ITypeConverter<SandboxPolicy.Mode> {
        @Override
        public SandboxPolicy.Mode convert(String value) {
            switch (value.strip().toLowerCase(Locale.ROOT)) {
                case "strict": return SandboxPolicy.Mode.STRICT;
                case "permissive": return SandboxPolicy.Mode.PERMISSIVE;
                default:
                    throw new CommandLine.TypeConversionException("'" + value
                            + "' is not a sandbox mode (valid: strict, permissive)");
            }
        }
    }
}
