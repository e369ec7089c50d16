package dev.meshhub.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;

/**
 * Provisioning a Felix framework with meshhub's bundles: what the launcher ({@link Launcher}) and the
 * embedding API share. Installs from a Maven-layout directory, raises the start level, and says in one
 * line why a bundle did not start.
 */
public final class Provisioning {

    private Provisioning() {
    }

    /**
     * Installs the bundles from {@code system} (Maven layout), all before any starts so fragments are
     * there when their hosts resolve, and marks the ones to start (they start at their start level).
     * After a framework update the bundles are still there: an install returns the installed one.
     */
    public static List<Bundle> install(BundleContext context, List<BundleSpec> specs, Path system)
            throws LaunchException {
        List<Bundle> installed = new ArrayList<>();
        for (BundleSpec spec : specs) {
            try (InputStream in = Files.newInputStream(MavenLayout.resolve(system, spec.location()))) {
                Bundle bundle = context.installBundle(spec.location(), in);
                if (spec.hasStartLevel()) {
                    bundle.adapt(BundleStartLevel.class).setStartLevel(spec.startLevel());
                }
                installed.add(bundle);
            } catch (BundleException | IOException e) {
                throw new LaunchException("failed to start: cannot install " + spec.location() + ": " + describe(e), e);
            }
        }
        for (int i = 0; i < installed.size(); i++) {
            Bundle bundle = installed.get(i);
            if (specs.get(i).start() && !isFragment(bundle)) {
                try {
                    // Marks it to start; it does when the framework reaches its start level.
                    bundle.start();
                } catch (BundleException e) {
                    throw new LaunchException("failed to start: cannot start " + specs.get(i).location() + ": "
                            + describe(e), e);
                }
            }
        }
        return installed;
    }

    /**
     * Raises the framework's start level and waits until it is reached.
     *
     * @param abandoned tells it to give up (a stop was requested meanwhile)
     * @throws LaunchException if the framework stops, {@code abandoned} says so, or the level is not reached in time
     */
    public static void raiseStartLevel(Framework fw, int level, long timeoutMillis, BooleanSupplier abandoned)
            throws LaunchException, InterruptedException {
        CountDownLatch reached = new CountDownLatch(1);
        fw.adapt(FrameworkStartLevel.class).setStartLevel(level, event -> {
            if (event.getType() == FrameworkEvent.STARTLEVEL_CHANGED) {
                reached.countDown();
            }
        });
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!reached.await(200, TimeUnit.MILLISECONDS)) {
            if (abandoned.getAsBoolean() || (fw.getState() & (Bundle.STARTING | Bundle.ACTIVE)) == 0) {
                throw new LaunchException("failed to start: the framework stopped while starting");
            }
            if (System.nanoTime() > deadline) {
                throw new LaunchException("failed to start: start level " + level + " not reached within "
                        + TimeUnit.MILLISECONDS.toSeconds(timeoutMillis) + " s");
            }
        }
    }

    static boolean isFragment(Bundle bundle) {
        return bundle.getHeaders("").get(Constants.FRAGMENT_HOST) != null;
    }

    /** One line: the message, and the root cause's if it differs. */
    public static String describe(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = message(t);
        if (root != t && !text.contains(message(root))) {
            text += " (caused by " + message(root) + ")";
        }
        return text;
    }

    private static String message(Throwable t) {
        String message = t.getMessage();
        if (message == null || message.isBlank()) {
            return t.getClass().getName();
        }
        int newline = message.indexOf('\n');
        message = newline < 0 ? message : message.substring(0, newline);
        return t instanceof BundleException || t instanceof LaunchException || t instanceof IllegalArgumentException
                ? message.trim()
                : t.getClass().getSimpleName() + ": " + message.trim();
    }

    /** Remembers the first error the framework reports per bundle, to say why a bundle did not start. */
    public static final class StartFailures implements FrameworkListener {

        private final Map<Long, String> errors = new ConcurrentHashMap<>();

        @Override
        public void frameworkEvent(FrameworkEvent event) {
            if (event.getType() == FrameworkEvent.ERROR && event.getBundle() != null) {
                errors.putIfAbsent(event.getBundle().getBundleId(), describe(event.getThrowable()));
            }
        }

        public void check(List<Bundle> installed, List<BundleSpec> specs) throws LaunchException {
            List<String> notStarted = new ArrayList<>();
            for (int i = 0; i < installed.size(); i++) {
                Bundle bundle = installed.get(i);
                if (specs.get(i).start() && !isFragment(bundle)
                        && (bundle.getState() & (Bundle.ACTIVE | Bundle.STARTING)) == 0) {
                    String why = errors.get(bundle.getBundleId());
                    notStarted.add(bundle.getSymbolicName() + " (" + specs.get(i).location() + "): "
                            + (why != null ? why : stateName(bundle.getState())));
                }
            }
            if (!notStarted.isEmpty()) {
                throw new LaunchException("failed to start: " + notStarted.size() + " bundle(s) did not start: "
                        + String.join("; ", notStarted));
            }
        }

        private static String stateName(int state) {
            return switch (state) {
                case Bundle.INSTALLED -> "not resolved";
                case Bundle.RESOLVED -> "resolved but not started";
                case Bundle.STOPPING -> "stopping";
                case Bundle.UNINSTALLED -> "uninstalled";
                default -> "state " + state;
            };
        }
    }
}
