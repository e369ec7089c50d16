package dev.meshhub.journal.impl;

import static org.junit.Assert.assertEquals;

import java.lang.reflect.Method;

import org.junit.Test;

import dev.meshhub.api.task.TaskJournal;

public class JournalComponentTest {

    /**
     * The service delegates every journal method to the Derby journal: an interface default left in
     * place would run its slower fallback (createDispatched's default is two writes, the second
     * lingering for company, where the journal's own is one).
     */
    @Test
    public void theServiceOverridesEveryDefaultOfTheTaskJournal() throws NoSuchMethodException {
        for (Method method : TaskJournal.class.getMethods()) {
            if (method.isDefault()) {
                assertEquals(method.getName(), JournalComponent.class,
                        JournalComponent.class.getMethod(method.getName(), method.getParameterTypes()).getDeclaringClass());
                assertEquals(method.getName(), DerbyTaskJournal.class,
                        DerbyTaskJournal.class.getMethod(method.getName(), method.getParameterTypes()).getDeclaringClass());
            }
        }
    }
}
