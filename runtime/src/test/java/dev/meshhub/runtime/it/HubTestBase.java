package dev.meshhub.runtime.it;

import javax.inject.Inject;

import org.junit.After;
import org.junit.Before;
import org.osgi.framework.BundleContext;

import dev.meshhub.api.node.NodeDirectory;

/**
 * What every in-container test of the hub has: the framework, the live node directory (injecting
 * it also waits until the transport is up) and real gRPC clients of the hub under test.
 */
abstract class HubTestBase {

    @Inject
    protected BundleContext context;

    @Inject
    protected NodeDirectory directory;

    protected HubClient hub;

    @Before
    public void connect() {
        hub = HubClient.connect(context);
    }

    @After
    public void close() throws Exception {
        hub.close();
    }
}
