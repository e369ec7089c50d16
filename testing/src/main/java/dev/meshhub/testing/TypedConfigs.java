package dev.meshhub.testing;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Map;

/**
 * Component property types for tests, as SCR builds them: a value from the map, else the element's
 * default. Values are converted the simple ways a {@code .cfg} file needs (a String for a String[]).
 */
public final class TypedConfigs {

    private TypedConfigs() {
    }

    public static <A> A of(Class<A> type, Map<String, ?> values) {
        Object proxy = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (self, method, args) -> {
            switch (method.getName()) {
                case "annotationType":
                    return type;
                case "toString":
                    return type.getSimpleName() + values;
                case "hashCode":
                    return System.identityHashCode(self);
                case "equals":
                    return self == args[0];
                default:
                    return value(method, values);
            }
        });
        return type.cast(proxy);
    }

    private static Object value(Method method, Map<String, ?> values) {
        Class<?> returnType = method.getReturnType();
        Object value = values.containsKey(method.getName()) ? values.get(method.getName()) : method.getDefaultValue();
        if (value == null) {
            return returnType == boolean.class ? Boolean.FALSE : null;
        }
        if (returnType == String[].class && value instanceof String) {
            return new String[] {(String) value};
        }
        if (returnType == boolean.class && value instanceof String) {
            return Boolean.valueOf((String) value);
        }
        return value;
    }
}
