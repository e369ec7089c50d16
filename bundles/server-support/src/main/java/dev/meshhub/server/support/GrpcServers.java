package dev.meshhub.server.support;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

/** Starting and stopping the front ends' gRPC servers, with errors that say what to change. */
public final class GrpcServers {

    private GrpcServers() {
    }

    /**
     * Builds and starts a server.
     *
     * @param what    what listens, for the message ("node", "admin")
     * @param builder the configured builder
     * @param address the bind address, for the message
     * @param port    the port, for the message
     * @param fix     where the setting lives, e.g. {@code "etc/dev.meshhub.admin.cfg (port) or MESHHUB_ADMIN_PORT"}
     * @throws IOException naming the address, the reason and where to change it
     */
    public static Server start(String what, NettyServerBuilder builder, String address, int port, String fix) throws IOException {
        try {
            return builder.build().start();
        } catch (IOException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String reason = cause instanceof BindException ? "the address is in use or not local" : cause.toString();
            throw new IOException("cannot listen for " + what + " connections on " + address + ":" + port + " (" + reason
                    + "); change it in " + fix, e);
        }
    }

    /** The port a started server listens on (differs from the configured one when that was 0). */
    public static int port(Server server) {
        return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    }

    /**
     * Stops a server: no new calls, calls in flight get up to {@code graceMillis} to finish, then
     * whatever is left is cancelled. Null-safe.
     */
    public static void stop(Server server, long graceMillis) {
        if (server == null) {
            return;
        }
        server.shutdown();
        try {
            if (!server.awaitTermination(graceMillis, TimeUnit.MILLISECONDS)) {
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Gives a fixed-size pool {@code threads} threads, while it runs (calls queued meanwhile are kept).
     *
     * @return whether the size changed
     */
    public static boolean resize(ThreadPoolExecutor pool, int threads) {
        if (threads == pool.getMaximumPoolSize() && threads == pool.getCorePoolSize()) {
            return false;
        }
        // The core size may never exceed the maximum: grow the maximum first, shrink it last.
        if (threads > pool.getMaximumPoolSize()) {
            pool.setMaximumPoolSize(threads);
            pool.setCorePoolSize(threads);
        } else {
            pool.setCorePoolSize(threads);
            pool.setMaximumPoolSize(threads);
        }
        return true;
    }

    /**
     * A timer thread ({@code prefix-1}) whose cancelled tasks leave its queue at once. A plain
     * {@code newSingleThreadScheduledExecutor} keeps a cancelled task, and all it refers to, queued until
     * its delay would have run out: a per-task timeout of minutes, cancelled when the task ends, would
     * then hold every task of those minutes in memory.
     */
    public static ScheduledThreadPoolExecutor timer(String prefix) {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, threads(prefix));
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /** Daemon threads named {@code prefix-1}, {@code prefix-2}, ... */
    public static ThreadFactory threads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
