package dev.meshhub.cli;

import dev.meshhub.proto.v1.GetHubTrustRequest;
import dev.meshhub.proto.v1.HubTrustInfo;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code meshctl ca pin|bundle}: what a node needs to trust the hub. */
@Command(name = "ca", mixinStandardHelpOptions = true,
        description = "The hub's certificate authority: what a node needs to verify the hub before it sends anything.",
        subcommands = {CaCommand.Pin.class, CaCommand.Bundle.class})
final class CaCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: pin or bundle");
    }

    static HubTrustInfo fetch(MeshCtl root) {
        try (AdminClient client = root.connect()) {
            return client.call(stub -> stub.getHubTrust(GetHubTrustRequest.getDefaultInstance()));
        }
    }

    @Command(name = "pin", mixinStandardHelpOptions = true,
            description = {"Prints the pin of the hub's CA (sha256:...), alone, on stdout.",
                "A joining node passes it: meshnode --hub HOST:7700 --token TOKEN --ca-pin PIN --workspace DIR"})
    static final class Pin implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            MeshCtl root = MeshCtl.root(spec);
            root.out().println(fetch(root).getCaPin());
            return 0;
        }
    }

    @Command(name = "bundle", mixinStandardHelpOptions = true,
            description = {"Prints every CA the hub's certificates may chain to, as PEM, on stdout.",
                "Save it for meshnode --ca-file FILE, or for other TLS clients of the node port."})
    static final class Bundle implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            MeshCtl root = MeshCtl.root(spec);
            root.out().print(fetch(root).getTrustBundlePem());
            root.out().flush();
            return 0;
        }
    }
}
