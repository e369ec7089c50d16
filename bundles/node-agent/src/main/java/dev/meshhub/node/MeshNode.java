package dev.meshhub.node;

import dev.meshhub.proto.v1.HubAddress;
import dev.meshhub.proto.v1.WireHeaders;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshnode}: the node program. Parses the command line, runs a {@link NodeAgent} until it
 * ends, prints its one-line outcome and exits with its code.
 *
 * <pre>
 * meshnode --hub HOST:PORT --token TOKEN --ca-pin PIN --workspace DIR [--name NAME]   first start (enrolls)
 * meshnode --hub HOST:PORT --workspace DIR                                            later starts (the CA is kept)
 * meshnode ... --max-tasks N                                             at most N tasks at once (16)
 * meshnode ... --state DIR                                               key and certificate kept in DIR
 * </pre>
 *
 * Exit codes: 0 stopped by SIGTERM/SIGINT; 1 local failure; 2 usage error or enrollment refused;
 * 3 credential rejected (revoked?); 4 session replaced by another process with this credential;
 * 5 the hub failed verification (wrong pin or CA): nothing was sent to it.
 */
@Command(name = "meshnode", mixinStandardHelpOptions = true, versionProvider = MeshNode.Version.class,
        sortOptions = false,
        description = {"Joins this machine to a meshhub hub, keeps it connected, and runs the tasks the hub"
                + " assigns inside DIR under the node's sandbox policy.",
            "The first start needs an invite token (an admin creates one with 'meshctl invite create');"
                    + " the certificate it earns (for a key made here, never sent) is kept in the state directory (see --state) and used from then on."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:stopped (SIGTERM or SIGINT)",
            "1:local failure (e.g. the credential could not be stored)",
            "2:usage error, or the hub refused the enrollment",
            "3:the hub rejected this node's credential (revoked?)",
            "4:another process runs with this node's credential",
            "5:the hub failed verification (not the pinned CA): nothing, token included, was sent"})
public final class MeshNode implements Callable<Integer> {

    private static volatile boolean exiting;
    static final String CDS_ARCHIVE_PROPERTY = "meshnode.cds.archive";

    @Option(names = "--hub", required = true, paramLabel = "HOST:PORT",
            description = "The hub's node address (port defaults to " + WireHeaders.DEFAULT_NODE_PORT + ").")
    private String hub;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "Invite token; needed only until this node is enrolled, ignored afterwards.")
    private String token;

    @Option(names = "--ca-pin", paramLabel = "PIN",
            description = "The hub CA's pin (sha256:...; 'meshctl ca pin' prints it). The hub must prove it holds this CA"
                    + " before anything, the token included, is sent. Needed at the first start; the CA is kept afterwards.")
    private String caPin;

    @Option(names = "--ca-file", paramLabel = "FILE",
            description = "Verify the hub with the CA certificate(s) in this PEM file ('meshctl ca bundle' prints them)"
                    + " instead of a pin.")
    private Path caFile;

    @Option(names = "--insecure-skip-hub-verification",
            description = "Do NOT verify the hub: anyone on the path can pose as it and take the token. Logged at every start.")
    private boolean insecureSkipHubVerification;

    @Option(names = "--plaintext",
            description = "No TLS at all, for a hub whose node port is plaintext on this machine (loopback only; tests).")
    private boolean plaintext;

    @Option(names = "--workspace", required = true, paramLabel = "DIR",
            description = "The node's directory: tasks run and files are pushed and synced here.")
    private Path workspace;

    @Option(names = "--state", paramLabel = "DIR",
            description = "Where the node keeps its key, certificate and the hub's CA (owner-only), outside the workspace so"
                    + " that no task can reach them. Default: $XDG_STATE_HOME/meshnode/<workspace name>-<hash>"
                    + " ($HOME/.local/state/..., or /var/lib/meshnode/... as root). Older agents kept it in"
                    + " DIR/.meshnode; it is moved out at the first start.")
    private Path state;

    @Option(names = "--name", paramLabel = "NAME",
            description = "Name to enroll under (letters, digits, '.', '_', '-'; at most 63). Default: hostname.")
    private String name;

    @Option(names = "--max-tasks", paramLabel = "N",
            description = "Tasks that may run at once (1 to " + NodeAgentConfig.Builder.MAX_MAX_TASKS + ", default "
                    + NodeAgentConfig.Builder.DEFAULT_MAX_TASKS + "); beyond that a task fails with 'node is busy'.")
    private int maxTasks = NodeAgentConfig.Builder.DEFAULT_MAX_TASKS;

    @Option(names = "--sync-folder", paramLabel = "DIR",
            description = "A workspace folder to mirror to the hub (repeatable): every file below it is uploaded into"
                    + " the hub's data/mirror/<node id>/ when new or changed, resuming interrupted uploads.")
    private java.util.List<String> syncFolders = new java.util.ArrayList<>();

    @Option(names = "--sync-interval", paramLabel = "SECONDS",
            description = "Seconds between two passes over the sync folders (default 60).")
    private long syncIntervalSeconds = NodeAgentConfig.Builder.DEFAULT_SYNC_INTERVAL.toSeconds();

    @Option(names = "--confinement", paramLabel = "MODE",
            description = "How STRICT tasks are confined: auto (default: bubblewrap where it works, else unconfined and"
                    + " marked so), bwrap (refuse to start without it) or none.")
    private String confinement = "auto";

    @Option(names = "--verbose", description = "Log details and stack traces.")
    private boolean verbose;

    public static void main(String[] args) {
        int code = run(args);
        exiting = true;
        System.exit(code);
    }

    /** Parses and runs; returns the exit code. Usage errors are reported on stderr with code 2. */
    static int run(String[] args) {
        CommandLine cl = new CommandLine(new MeshNode());
        cl.setErr(new PrintWriter(System.err, true));
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("meshnode: " + ex.getMessage());
            ex.getCommandLine().getErr().println("Try 'meshnode --help'.");
            return CommandLine.ExitCode.USAGE;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        HubAddress address;
        try {
            address = HubAddress.parse(hub, WireHeaders.DEFAULT_NODE_PORT);
        } catch (IllegalArgumentException e) {
            System.err.println("meshnode: invalid --hub: " + e.getMessage());
            return AgentExit.USAGE_OR_ENROLLMENT_REFUSED;
        }
        if (name != null && !NodeAgent.NODE_NAME_SHAPE.matcher(name.strip()).matches()) {
            System.err.println("meshnode: invalid --name '" + name
                    + "': use letters, digits, '.', '_' or '-', at most 63 characters");
            return AgentExit.USAGE_OR_ENROLLMENT_REFUSED;
        }
        if (maxTasks < 1 || maxTasks > NodeAgentConfig.Builder.MAX_MAX_TASKS) {
            System.err.println("meshnode: invalid --max-tasks " + maxTasks + ": use 1 to "
                    + NodeAgentConfig.Builder.MAX_MAX_TASKS);
            return AgentExit.USAGE_OR_ENROLLMENT_REFUSED;
        }
        if (syncIntervalSeconds < 1) {
            System.err.println("meshnode: invalid --sync-interval " + syncIntervalSeconds + ": use 1 or more seconds");
            return AgentExit.USAGE_OR_ENROLLMENT_REFUSED;
        }
        HubVerification verification;
        int chosen = (caPin != null ? 1 : 0) + (caFile != null ? 1 : 0) + (insecureSkipHubVerification ? 1 : 0) + (plaintext ? 1 : 0);
        if (chosen > 1) {
            System.err.println("meshnode: --ca-pin, --ca-file, --insecure-skip-hub-verification and --plaintext exclude each other;"
                    + " give one (--ca-pin is the usual)");
            return AgentExit.USAGE_OR_ENROLLMENT_REFUSED;
        }
        try {
            verification = caPin != null ? HubVerification.pin(caPin)
                    : caFile != null ? HubVerification.caFile(caFile)
                    : insecureSkipHubVerification ? HubVerification.insecure()
                    : plaintext ? HubVerification.plaintext()
                    : HubVerification.stored();
        } catch (IllegalArgumentException e) {
            System.err.println("meshnode: invalid --ca-pin: " + e.getMessage());
            return AgentExit.USAGE_OR_ENROLLMENT_REFUSED;
        }
        if (!java.util.List.of("auto", "bwrap", "none").contains(confinement)) {
            System.err.println("meshnode: --confinement takes auto, bwrap or none; got '" + confinement + "'");
            return AgentExit.USAGE_OR_ENROLLMENT_REFUSED;
        }
        NodeAgentConfig.Builder config = NodeAgentConfig.builder(address, workspace);
        if (state != null) {
            try {
                config.stateDirectory(state);
            } catch (IllegalArgumentException e) {
                System.err.println("meshnode: --state: " + e.getMessage());
                return AgentExit.USAGE_OR_ENROLLMENT_REFUSED;
            }
        }
        OneLineLogging.configure(verbose);
        NodeAgent agent = new NodeAgent(config
                .confinement(confinement)
                .verification(verification)
                .inviteToken(token)
                .nodeName(name)
                .agentVersion(version())
                .maxTasks(maxTasks)
                .syncFolders(syncFolders)
                .syncInterval(java.time.Duration.ofSeconds(syncIntervalSeconds))
                .build());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (exiting) {
                return; // main is exiting with the agent's own code
            }
            // SIGTERM/SIGINT: stop cleanly and exit 0 rather than the JVM's 128+signal.
            OneLineLogging.direct(Level.INFO, "stopping on signal: ending running tasks, closing the session and"
                    + " the channel");
            agent.close();
            OneLineLogging.direct(Level.INFO, "stopped");
            markClassArchiveComplete();
            System.err.flush();
            Runtime.getRuntime().halt(AgentExit.STOPPED);
        }, "meshnode-shutdown"));
        agent.start();
        AgentExit outcome = agent.exitFuture().join();
        exiting = true;
        agent.close();
        if (outcome.code() != AgentExit.STOPPED) {
            System.err.println("meshnode: " + outcome.message());
        }
        return outcome.code();
    }

    /**
     * bin/meshnode asks a run without a class-data archive to write one when the JVM exits ({@code
     * -XX:ArchiveClassesAtExit}, its path in {@value #CDS_ARCHIVE_PROPERTY}). Only a run that ran the agent until a
     * signal stopped it says so beside it: the next start takes no archive of a run that ended on a usage error or
     * a refusal, which loaded a fraction of the classes.
     */
    private static void markClassArchiveComplete() {
        String archive = System.getProperty(CDS_ARCHIVE_PROPERTY);
        if (archive == null || archive.isBlank()) {
            return;
        }
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of(archive + ".complete"), "written when the agent that made "
                    + archive + " stopped\n");
        } catch (java.io.IOException | RuntimeException e) {
            OneLineLogging.direct(Level.INFO, "no class-data archive for the next start: " + e);
        }
    }

    static String version() {
        String v = MeshNode.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** {@code meshnode --version}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"meshnode " + version()};
        }
    }
}
