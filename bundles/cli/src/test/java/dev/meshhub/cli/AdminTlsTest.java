package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.HubAddress;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Which channel meshctl opens: plaintext only on loopback; beyond it, TLS verified by a pin, a file or the hub's home. */
public class AdminTlsTest {

    private static final HubAddress LOCAL = new HubAddress("127.0.0.1", 7701);
    private static final HubAddress REMOTE = new HubAddress("192.0.2.7", 7701);
    private static final String PIN = "sha256:" + "ab".repeat(32);

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void loopbackWithoutFlagsStaysZeroFlagPlaintext() {
        assertTrue(AdminTls.choose(LOCAL, null, null, Map.of(), k -> null) instanceof InsecureChannelCredentials);
    }

    @Test
    public void aRemoteAdminApiIsNeverSpokenToInTheClear() {
        CliException e = assertThrows(CliException.class, () -> AdminTls.choose(REMOTE, null, null, Map.of(), k -> null));
        assertEquals(CliException.USAGE, e.exitCode());
        assertTrue(e.getMessage(), e.getMessage().contains("--ca-pin") && e.getMessage().contains("--ca-file"));
        assertTrue(AdminTls.choose(REMOTE, PIN, null, Map.of(), k -> null) instanceof TlsChannelCredentials);
        assertTrue(AdminTls.choose(REMOTE, null, null, Map.of(AdminTls.ENV_CA_PIN, PIN), k -> null) instanceof TlsChannelCredentials);
        assertTrue("a pin asks for TLS on loopback too", AdminTls.choose(LOCAL, PIN, null, Map.of(), k -> null) instanceof TlsChannelCredentials);
    }

    @Test
    public void onTheHubsMachineItsOwnTrustBundleIsUsed() throws Exception {
        Path home = tmp.newFolder("hub").toPath();
        Files.createDirectories(home.resolve("data/pki"));
        Files.copy(getClass().getResourceAsStream("/test-ca.pem"), home.resolve(AdminTls.TRUST_IN_HOME));
        assertTrue(AdminTls.choose(REMOTE, null, null, Map.of(AdminToken.ENV_HOME, home.toString()), k -> null)
                instanceof TlsChannelCredentials);
    }

    @Test
    public void aBadPinOrAMissingFileIsAUsageErrorSayingWhat() {
        CliException pin = assertThrows(CliException.class, () -> AdminTls.choose(REMOTE, "sha1:abc", null, Map.of(), k -> null));
        assertEquals(CliException.USAGE, pin.exitCode());
        assertTrue(pin.getMessage(), pin.getMessage().contains("sha256:"));
        CliException file = assertThrows(CliException.class,
                () -> AdminTls.choose(REMOTE, null, tmp.getRoot().toPath().resolve("none.pem"), Map.of(), k -> null));
        assertEquals(CliException.USAGE, file.exitCode());
        assertTrue(file.getMessage(), file.getMessage().startsWith("--ca-file"));
    }
}
