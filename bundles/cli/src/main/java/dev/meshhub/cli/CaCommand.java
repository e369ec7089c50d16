package dev.meshhub.cli;

import dev.meshhub.proto.v1.CaRotationInfo;
import dev.meshhub.proto.v1.GetHubTrustRequest;
import dev.meshhub.proto.v1.HubTrustInfo;
import dev.meshhub.proto.v1.RotateCaRequest;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshctl ca pin|bundle|status|rotate}: what a node needs to trust the hub, and rotating the CA. */
@Command(name = "ca", mixinStandardHelpOptions = true,
        description = "The hub's certificate authority: what a node needs to verify the hub before it sends anything.",
        subcommands = {CaCommand.Pin.class, CaCommand.Bundle.class, CaCommand.Status.class, CaCommand.Rotate.class})
final class CaCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: pin, bundle, status or rotate");
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

    /** One line on the CA and, during a rotation, its progress. */
    static String describe(HubTrustInfo trust) {
        if (!trust.hasRotation()) {
            return "CA " + trust.getCaPin() + "; no rotation running";
        }
        CaRotationInfo rotation = trust.getRotation();
        String progress = rotation.getNodesOnNewCa() < 0 ? "progress unknown (node port down)"
                : rotation.getNodesOnNewCa() + " of " + rotation.getNodesEnrolled() + " enrolled node(s) on the new CA";
        return "CA rotation from " + trust.getCaPin() + " (still serving) to " + rotation.getNewCaPin() + ": " + progress
                + "; the old CA is retired when all are, at the latest " + Instant.ofEpochMilli(rotation.getRetireByMs());
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Prints the CA's pin and, during a rotation, how many enrolled nodes hold a certificate of the new CA.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            MeshCtl root = MeshCtl.root(spec);
            root.out().println(describe(fetch(root)));
            return 0;
        }
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true,
            description = {"Rotates the hub's CA while nodes stay connected: a new CA issues node certificates at once,",
                "connected nodes are told to renew over their stream, and the old CA is retired as soon as every enrolled",
                "node holds a certificate of the new one (or after the grace period, dev.meshhub.pki caRetireGraceHours).",
                "Until then the node port serves with the old CA and invites print its pin; afterwards, the new one's."})
    static final class Rotate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--finish", description = "Retire the old CA of the running rotation now; nodes still on it fail the"
                + " TLS handshake from then on and must enroll again with a new invite.")
        boolean finish;

        @Option(names = "--wait", description = "After starting the rotation, wait until the old CA is retired, printing"
                + " progress on stderr; at most SECONDS (default 600).", arity = "0..1", fallbackValue = "600", paramLabel = "SECONDS")
        Integer waitSeconds;

        @Override
        public Integer call() throws InterruptedException {
            MeshCtl root = MeshCtl.root(spec);
            long started = System.nanoTime();
            HubTrustInfo trust;
            try (AdminClient client = root.connect()) {
                trust = client.call(stub -> stub.rotateCa(RotateCaRequest.newBuilder().setFinish(finish).build()));
            }
            root.out().println(finish ? "old CA retired; the hub serves and issues with " + trust.getCaPin() : describe(trust));
            if (finish || waitSeconds == null) {
                return 0;
            }
            long deadline = started + java.util.concurrent.TimeUnit.SECONDS.toNanos(waitSeconds);
            String last = "";
            while (trust.hasRotation()) {
                if (System.nanoTime() > deadline) {
                    throw new CliException(CliException.FAILED, "the rotation is still running after " + waitSeconds + " s: "
                            + describe(trust) + "; see 'meshctl ca status', or retire the old CA now with 'meshctl ca rotate --finish'");
                }
                Thread.sleep(250);
                trust = fetch(root);
                String now = describe(trust);
                if (!now.equals(last)) {
                    root.err().println(now);
                    last = now;
                }
            }
            root.out().println("old CA retired after " + java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
                    + " ms; the hub serves and issues with " + trust.getCaPin());
            return 0;
        }
    }
}
