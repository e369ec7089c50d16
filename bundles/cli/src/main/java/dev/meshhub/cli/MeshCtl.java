package dev.meshhub.cli;

import dev.meshhub.proto.v1.HubAddress;
import dev.meshhub.proto.v1.WireHeaders;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code meshctl}: the admin command line over the hub's AdminService.
 *
 * <pre>
 * meshctl [--hub HOST:PORT] [--token-file FILE] [--verbose] invite create [--ttl 30m] [--note TEXT]
 * meshctl ... nodes [--json] [--all]
 * meshctl ... revoke NODE
 * meshctl ... exec NODE [--timeout 30s] [--cwd DIR] [--env K=V]... [--shell LINE] -- ARGV...
 * meshctl ... tasks [--node NODE] [--state STATE] [--limit N] [--json]
 * meshctl ... task ID [--json]
 * meshctl ... cancel ID [--reason TEXT]
 * meshctl ... policy get NODE [--json]
 * meshctl ... policy set NODE strict|permissive [--yes]
 * meshctl ... admin tasks [--json]
 * meshctl ... status [--json]
 * meshctl ... sync pull NODE PATH [--plain]
 * meshctl ... sync push NODE LOCAL|mirror:NODE/PATH REMOTE [--plain]
 * </pre>
 *
 * Exit codes: 0 success; 1 the hub answered with an error or could not be reached; 2 usage error
 * or missing/unreadable admin token. Errors are one line on stderr, prefixed {@code meshctl: }.
 * {@code exec} exits with the remote command's code instead (124 timed out, 130 cancelled);
 * {@code sync} exits 130 when interrupted.
 */
@Command(name = "meshctl", mixinStandardHelpOptions = true, versionProvider = MeshCtl.Version.class,
        description = "Administers a meshhub hub over its admin API.",
        footerHeading = "%n",
        footer = {"The admin token is read from --token-file, else $" + AdminToken.ENV_TOKEN + " (the token itself),"
                + " else $" + AdminToken.ENV_TOKEN_FILE + ", else <hub home>/" + AdminToken.TOKEN_FILE_IN_HOME
                + " (hub home: $" + AdminToken.ENV_HOME + ", else -D" + AdminToken.PROP_HOME + ").",
            "",
            "Exit codes: 0 success; 1 the hub refused the request or cannot be reached;"
                + " 2 usage error or no readable admin token. 'meshctl exec' exits with the remote"
                + " command's exit code (124 timed out, 130 cancelled)."})
public final class MeshCtl implements Callable<Integer> {

    /**
     * The commands, in the order help lists them. Not in the annotation: building picocli's model of a
     * command costs reflection, so a run adds only the command it names (see {@link #commandsFor}).
     */
    static final Map<String, Class<?>> COMMANDS = commands();

    /** The root options that take a value (the next argument, unless given as {@code --opt=value}). */
    private static final Set<String> VALUED_OPTIONS = Set.of("--hub", "--token-file", "--ca-pin", "--ca-file");

    static final String ENV_ADDRESS = "MESHHUB_ADMIN_ADDRESS";
    static final String DEFAULT_ADDRESS = "127.0.0.1:" + WireHeaders.DEFAULT_ADMIN_PORT;

    @Option(names = "--hub", paramLabel = "HOST:PORT", scope = ScopeType.INHERIT,
            description = "The hub's admin API (default: $" + ENV_ADDRESS + ", else " + DEFAULT_ADDRESS + ").")
    String hub;

    @Option(names = "--token-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "File holding the admin token (default: see 'meshctl --help').")
    Path tokenFile;

    @Option(names = "--ca-pin", paramLabel = "PIN", scope = ScopeType.INHERIT,
            description = "Speak TLS to the admin API and accept only the hub whose CA has this pin (sha256:...; 'meshctl ca pin'"
                    + " on the hub prints it). Needed when the admin API is not on loopback (default: $MESHHUB_ADMIN_CA_PIN).")
    String caPin;

    @Option(names = "--ca-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Speak TLS to the admin API and verify the hub with the CA(s) in this PEM file (default:"
                    + " $MESHHUB_ADMIN_CA_FILE; on the hub's machine <hub home>/data/pki/trust.pem is used by itself).")
    Path caFile;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Show stack traces with errors.")
    boolean verbose;

    @Spec
    CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;
    private final Function<String, String> sysProps;
    private final Interrupts interrupts;
    private final Clock clock;

    MeshCtl(PrintStream out, PrintStream err, Map<String, String> env, Function<String, String> sysProps,
            Interrupts interrupts, Clock clock) {
        this.out = out;
        this.err = err;
        this.env = env;
        this.sysProps = sysProps;
        this.interrupts = interrupts;
        this.clock = clock;
    }

    public static void main(String[] args) {
        quietLibraryLogging();
        System.exit(run(args, System.out, System.err, System.getenv(), System::getProperty,
                Interrupts.shutdownHook()));
    }

    /** Runs meshctl with the given streams and environment; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        return run(args, out, err, env, System::getProperty);
    }

    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env,
            Function<String, String> sysProps) {
        return run(args, out, err, env, sysProps, Interrupts.NONE);
    }

    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env,
            Function<String, String> sysProps, Interrupts interrupts) {
        return run(args, out, err, env, sysProps, interrupts, Clock.systemUTC());
    }

    /** With the clock that ages ("4s ago") are measured against, so tests can fix it. */
    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env,
            Function<String, String> sysProps, Interrupts interrupts, Clock clock) {
        MeshCtl root = new MeshCtl(out, err, env, sysProps, interrupts, clock);
        CommandLine cl = new CommandLine(root);
        for (Class<?> command : commandsFor(args)) {
            cl.addSubcommand(command);
        }
        // Arguments are taken verbatim: no @file expansion (exec passes '@...' arguments to the node).
        cl.setExpandAtFiles(false);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("meshctl: " + ex.getMessage() + " (see '"
                    + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return CliException.USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof CliException) {
                err.println("meshctl: " + ex.getMessage());
                if (root.verbose && ex.getCause() != null) {
                    ex.getCause().printStackTrace(err);
                }
                return ((CliException) ex).exitCode();
            }
            err.println("meshctl: unexpected error: " + ex + (root.verbose ? "" : " (--verbose shows details)"));
            if (root.verbose) {
                ex.printStackTrace(err);
            }
            return CliException.FAILED;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static Map<String, Class<?>> commands() {
        Map<String, Class<?>> commands = new LinkedHashMap<>();
        commands.put("invite", InviteCommand.class);
        commands.put("nodes", NodesCommand.class);
        commands.put("revoke", RevokeCommand.class);
        commands.put("exec", ExecCommand.class);
        commands.put("tasks", TasksCommand.class);
        commands.put("task", TaskCommand.class);
        commands.put("cancel", CancelCommand.class);
        commands.put("policy", PolicyCommand.class);
        commands.put("status", StatusCommand.class);
        commands.put("health", HealthCommand.class);
        commands.put("admin", AdminCommand.class);
        commands.put("sync", SyncCommand.class);
        commands.put("ca", CaCommand.class);
        commands.put("help", CommandLine.HelpCommand.class);
        return Collections.unmodifiableMap(commands);
    }

    /**
     * The commands a run needs: the one its first positional argument names, or all of them when it
     * names none or one that does not exist (help, usage errors and their suggestions list them all).
     */
    static Collection<Class<?>> commandsFor(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (VALUED_OPTIONS.contains(arg)) {
                i++;
            } else if (!arg.startsWith("-")) {
                Class<?> named = COMMANDS.get(arg);
                return named == null || "help".equals(arg) ? COMMANDS.values() : List.of(named);
            } else if ("--".equals(arg)) {
                break;
            }
        }
        return COMMANDS.values();
    }

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command: invite create, nodes, revoke, exec, tasks, task, cancel, policy, status, admin tasks,"
                        + " sync pull or sync push");
    }

    /** meshctl's own environment (as given to {@link #run}). */
    Map<String, String> environment() {
        return env;
    }

    PrintStream out() {
        return out;
    }

    PrintStream err() {
        return err;
    }

    Interrupts interrupts() {
        return interrupts;
    }

    Clock clock() {
        return clock;
    }

    /** Resolves address and token (usage errors exit 2) and opens a client. */
    AdminClient connect() {
        HubAddress address = hubAddress();
        AdminToken token = AdminToken.resolve(tokenFile, env, sysProps);
        AdminTls.Choice tls = AdminTls.decide(address, caPin, caFile, env, sysProps);
        return new AdminClient(address, token, "meshctl/" + version(), tls.credentials(), tls.trust());
    }

    HubAddress hubAddress() {
        String from = "--hub";
        String text = hub;
        if (text == null || text.isBlank()) {
            text = env.get(ENV_ADDRESS);
            from = ENV_ADDRESS;
        }
        if (text == null || text.isBlank()) {
            text = DEFAULT_ADDRESS;
        }
        try {
            return HubAddress.parse(text, WireHeaders.DEFAULT_ADMIN_PORT);
        } catch (IllegalArgumentException e) {
            throw new CliException(CliException.USAGE, "invalid " + from + ": " + e.getMessage());
        }
    }

    static MeshCtl root(CommandSpec spec) {
        return (MeshCtl) spec.root().userObject();
    }

    static String version() {
        String v = MeshCtl.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** grpc-java logs through java.util.logging; keep it to one line on stderr, warnings only. */
    private static void quietLibraryLogging() {
        LogManager.getLogManager().reset();
        Handler handler = new ConsoleHandler();
        handler.setFormatter(new java.util.logging.Formatter() {
            @Override
            public String format(LogRecord r) {
                return "meshctl: " + r.getLevel().getName().toLowerCase() + ": " + formatMessage(r)
                        + (r.getThrown() == null ? "" : " (" + r.getThrown() + ")") + System.lineSeparator();
            }
        });
        Logger root = Logger.getLogger("");
        root.addHandler(handler);
        root.setLevel(Level.WARNING);
    }

    /** {@code meshctl --version}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"meshctl " + version()};
        }
    }
}
