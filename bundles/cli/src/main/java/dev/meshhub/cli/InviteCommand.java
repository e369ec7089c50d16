package dev.meshhub.cli;

import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.CreateInviteResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
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

    /** Prints the token alone on stdout (for {@code TOKEN=$(meshctl invite create)}); the rest goes to stderr. */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Creates a single-use invite token and prints it, alone, on stdout.",
                "Give it to the node: meshnode --hub HOST:7700 --token TOKEN --workspace DIR"})
    static final class Create implements Callable<Integer> {

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
            root.out().println(response.getToken());
            root.out().flush();
            String expires = NodeListing.iso(response.getExpiresAtMs());
            root.err().println("invite " + response.getInviteId() + " created; single use"
                    + (expires == null ? "" : ", valid until " + expires));
            return 0;
        }
    }
}
