package dev.meshhub.embed;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Optional;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The hub's services as the application reaches them. {@link #get} hands out a stand-in that calls
 * whichever service of that type is best at the moment of each call, so it keeps working while the
 * hub replaces the bundle behind it (a journal update, a new policy); {@link #find} hands out the
 * service object itself, as of now.
 */
public final class MeshHubServices {

    private final BundleContext context;

    MeshHubServices(BundleContext context) {
        this.context = context;
    }

    /**
     * A stand-in for the best service of an interface type ({@code TaskDispatcher},
     * {@code NodeDirectory}, {@code EnrollmentStore}, ...). A call while no such service runs throws
     * {@link IllegalStateException} naming it.
     */
    public <S> S get(Class<S> type) {
        if (!type.isInterface()) {
            throw new IllegalArgumentException(type.getName() + " is not an interface; use find() for it");
        }
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "toString" -> "meshhub service " + type.getName();
                    case "hashCode" -> System.identityHashCode(proxy);
                    default -> proxy == args[0];
                };
            }
            ServiceReference<S> reference = context.getServiceReference(type);
            S service = reference == null ? null : context.getService(reference);
            if (service == null) {
                throw new IllegalStateException("no " + type.getSimpleName() + " service runs in the embedded hub now"
                        + " (its bundle is stopping, being replaced, or its feature is not installed)");
            }
            try {
                return method.invoke(service, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                context.ungetService(reference);
            }
        };
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    }

    /** The best service of a type now, if one runs. */
    public <S> Optional<S> find(Class<S> type) {
        ServiceReference<S> reference = context.getServiceReference(type);
        return reference == null ? Optional.empty() : Optional.ofNullable(context.getService(reference));
    }

    /** Waits until a service of the type runs, and returns it as {@link #get} does. */
    public <S> S await(Class<S> type, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (context.getServiceReference(type) == null) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("no " + type.getSimpleName() + " service within " + timeout.toMillis() + " ms");
            }
            Thread.sleep(10);
        }
        return get(type);
    }
}
