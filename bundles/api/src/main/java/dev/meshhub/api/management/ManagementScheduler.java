package dev.meshhub.api.management;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The scheduler bundle's view of the {@link ManagementTask} services it tracks. Answers from memory.
 */
@ProviderType
public interface ManagementScheduler {

    /**
     * Every tracked task service, ignored ones included, sorted by name then service id.
     */
    List<ManagementTaskStatus> tasks();
}
