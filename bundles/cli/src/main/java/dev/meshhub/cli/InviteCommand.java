package dev.meshhub.cli;

import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.CreateInviteResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import dev.meshhub.proto.v1.WireHeaders;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshctl invite create}: makes a single-use invite token. */
@Command(name = "invite", mixinStandardHelpOptions = true, description = "Manages invite tokens.",
        subcommands = InviteCommand.Create.class)
final class InviteCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: create");
    }

    /**
     * Prints the token alone on stdout (for {@code TOKEN=$(meshctl invite create)}), or with
     * {@code --join} the whole meshnode command line; the CA pin and the rest go to stderr.
     */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Creates a single-use invite token and prints it, alone, on stdout (with --join: the whole"
                    + " meshnode command line). The hub's CA pin is printed on stderr.",
                "Give both to the node: meshnode --hub HOST:7700 --token TOKEN --ca-pin PIN --workspace DIR"})
    static final class Create implements Callable<Integer> {

        @Option(names = "--join", description = "Print a ready meshnode command line (hub address, token, CA pin) on stdout.")
        boolean join;

        @Option(names = "--node-address", paramLabel = "HOST:PORT",
                description = "The hub's node address for --join (default: the first name on the hub's certificate, port 7700).")
        String nodeAddress;

        @Option(names = "--ttl", paramLabel = "DURATION", converter = Ttl.Converter.class,
                description = "How long the token stays valid: 90s, 30m, 1h, 2h30m, 1d"
                        + " (default: the hub's, 1h; the hub caps it at 24h).")
        Duration ttl;

        @Option(names = "--note", paramLabel = "TEXT", description = "Who or what the invite is for (recorded).")
        String note;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            MeshCtl root = MeshCtl.root(spec);
            CreateInviteRequest.Builder request = CreateInviteRequest.newBuilder();
            if (ttl != null) {
                request.setTtlSeconds(ttl.getSeconds());
            }
            if (note != null) {
                request.setNote(note);
            }
            CreateInviteResponse response;
            try (AdminClient client = root.connect()) {
                response = client.call(stub -> stub.createInvite(request.build()));
            }
            if (response.getToken().isEmpty()) {
                throw new CliException(CliException.FAILED, "the hub created invite " + response.getInviteId()
                        + " but returned no token");
            }
            String pin = response.getCaPin();
            if (join) {
                if (pin.isEmpty()) {
                    throw new CliException(CliException.FAILED, "the hub created invite " + response.getInviteId()
                            + " but its PKI is not running, so there is no CA pin to join with; see the hub log");
                }
                root.out().println("meshnode --hub " + address(response) + " --token " + response.getToken() + " --ca-pin " + pin
                        + " --workspace DIR");
            } else {
                root.out().println(response.getToken());
            }
            root.out().flush();
            String expires = NodeListing.iso(response.getExpiresAtMs());
            root.err().println("invite " + response.getInviteId() + " created; single use"
                    + (expires == null ? "" : ", valid until " + expires));
            root.err().println(pin.isEmpty() ? "hub CA pin: unknown (the hub's PKI is not running; see the hub log)"
                    : "hub CA pin: " + pin + " (meshnode --ca-pin)");
            return 0;
        }

        private String address(CreateInviteResponse response) {
            if (nodeAddress != null && !nodeAddress.isBlank()) {
                return nodeAddress.strip();
            }
            String host = response.getHubNamesList().stream()
                    .filter(name -> !name.equals("localhost") && !name.startsWith("127.") && !name.equals("::1")
                            && !name.equals("0:0:0:0:0:0:0:1"))
                    .findFirst().orElse("127.0.0.1");
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + WireHeaders.DEFAULT_NODE_PORT;
        }
    }
}
