package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;

import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** Repeated failed enrollments from one address are refused for the rest of the window. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class EnrollmentLimitIT {

    private static final int LIMIT = 3;

    @Inject
    private BundleContext context;

    @Inject
    private NodeDirectory directory;

    @Inject
    private EnrollmentStore store;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("EnrollmentLimitIT", Map.of("enrollmentFailuresPerMinute", String.valueOf(LIMIT)), "meshhub-transport");
    }

    @Test
    public void anAddressGuessingTokensIsRefusedEvenWithAValidOne() throws Exception {
        // The transport alone, without the admin API: an integrator's hub that enrolls through the store.
        try (HubClient hub = HubClient.connectWithoutAdmin(context)) {
            String valid = store.createInvite(null, "it").toCompletableFuture().get(10, TimeUnit.SECONDS).token();
            for (int i = 0; i < LIMIT; i++) {
                String guess = "mhi.00000000000000" + String.format("%02d", i) + "." + "C".repeat(43);
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> hub.node().syncConfiguration(SyncConfigurationRequest.newBuilder().setInviteToken(guess)
                                .setCsr(TestCertificates.throwawayCsr()).build()));
                assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
            }
            StatusRuntimeException limited = assertThrows(StatusRuntimeException.class,
                    () -> hub.node().syncConfiguration(SyncConfigurationRequest.newBuilder().setInviteToken(valid)
                            .setCsr(TestCertificates.throwawayCsr()).build()));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, limited.getStatus().getCode());
            assertTrue(limited.getStatus().getDescription(), limited.getStatus().getDescription().contains("retry in"));
            // Refused before the store was asked: the valid token was not spent and no node appeared.
            assertTrue(store.nodes().isEmpty());
            assertTrue(directory.connected().isEmpty());
        }
    }
}
