package dev.meshhub.server.config;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * Checks a configuration against the bounds its typed configuration declares. The bounds are the
 * {@code @AttributeDefinition} {@code min}/{@code max} of the component's
 * {@code @ObjectClassDefinition}, read from the metatype document bnd generates from them
 * ({@code OSGI-INF/metatype/<pid>.xml} in the bundle), so the declaration is the one source.
 *
 * <p>A value that does not parse as its type or lies outside its bounds is a problem: the caller
 * refuses the whole configuration and keeps what it runs with. A key the definition does not know is
 * reported separately (a typo, or a key that moved): the caller warns and ignores it. Keys of the
 * framework and of the component itself ({@code service.*}, {@code component.*}, {@code felix.*},
 * {@code event.*}, {@code osgi.*}, and the health check properties {@code hc.*}) are neither.
 */
public final class ConfigCheck {

    private static final List<String> FRAMEWORK_PREFIXES = List.of("service.", "component.", "felix.", "event.", "osgi.", "hc.", ".");

    /** One attribute of the definition. */
    record Attribute(String id, String type, String min, String max) {
    }

    private final String pid;
    private final Map<String, Attribute> attributes;
    private final Map<String, String> movedKeys;

    private ConfigCheck(String pid, Map<String, Attribute> attributes, Map<String, String> movedKeys) {
        this.pid = pid;
        this.attributes = attributes;
        this.movedKeys = movedKeys;
    }

    /**
     * The check for a PID, from the metatype document next to {@code owner} (the component class, whose
     * bundle carries the document).
     *
     * @throws IllegalStateException if the document is missing or unreadable (a build mistake)
     */
    public static ConfigCheck forPid(String pid, Class<?> owner) {
        String resource = "OSGI-INF/metatype/" + pid + ".xml";
        URL url = owner.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException("no metatype document " + resource + " beside " + owner.getName()
                    + "; the bundle was built without its @ObjectClassDefinition");
        }
        try (InputStream in = url.openStream()) {
            return new ConfigCheck(pid, read(in, pid), Map.of());
        } catch (IOException | ParserConfigurationException | SAXException e) {
            throw new IllegalStateException("cannot read the metatype document " + resource + ": " + e.getMessage(), e);
        }
    }

    /** The same check, which also tells where keys that moved elsewhere went (key to advice). */
    public ConfigCheck withMovedKeys(Map<String, String> moved) {
        return new ConfigCheck(pid, attributes, Map.copyOf(moved));
    }

    private static Map<String, Attribute> read(InputStream in, String pid)
            throws ParserConfigurationException, IOException, SAXException {
        // The JDK's own parser: no lookup through the context class loader, no external entities.
        DocumentBuilderFactory factory = DocumentBuilderFactory.newDefaultInstance();
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        factory.setNamespaceAware(false);
        NodeList ocds = factory.newDocumentBuilder().parse(in).getElementsByTagName("OCD");
        for (int i = 0; i < ocds.getLength(); i++) {
            Element ocd = (Element) ocds.item(i);
            if (!pid.equals(ocd.getAttribute("id"))) {
                continue;
            }
            Map<String, Attribute> attributes = new LinkedHashMap<>();
            NodeList ads = ocd.getElementsByTagName("AD");
            for (int j = 0; j < ads.getLength(); j++) {
                Element ad = (Element) ads.item(j);
                attributes.put(ad.getAttribute("id"), new Attribute(ad.getAttribute("id"), ad.getAttribute("type"),
                        ad.getAttribute("min"), ad.getAttribute("max")));
            }
            return Collections.unmodifiableMap(attributes);
        }
        throw new IOException("it defines no OCD with id " + pid);
    }

    /** The keys the definition knows, in declaration order. */
    public List<String> keys() {
        return List.copyOf(attributes.keySet());
    }

    /** What is wrong with a configuration, and which keys nobody reads. */
    public Result check(Map<String, ?> properties) {
        List<String> problems = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, ?> entry : new java.util.TreeMap<>(properties).entrySet()) {
            String key = entry.getKey();
            Attribute attribute = attributes.get(key);
            if (attribute == null) {
                if (!isFrameworkKey(key)) {
                    unknown.add(unknownKey(key));
                }
                continue;
            }
            String problem = problem(attribute, entry.getValue());
            if (problem != null) {
                problems.add(problem);
            }
        }
        return new Result(pid, List.copyOf(problems), List.copyOf(unknown));
    }

    /** Whether a key belongs to the framework or the component, not to the configuration's definition. */
    public static boolean isFrameworkKey(String key) {
        return FRAMEWORK_PREFIXES.stream().anyMatch(key::startsWith);
    }

    private String unknownKey(String key) {
        String moved = movedKeys.get(key);
        if (moved != null) {
            return key + " (" + moved + ")";
        }
        for (String known : attributes.keySet()) {
            if (known.equalsIgnoreCase(key) || known.equalsIgnoreCase(key.replace("_", "").replace("-", ""))) {
                return key + " (did you mean " + known + "?)";
            }
        }
        return key;
    }

    private static String problem(Attribute attribute, Object value) {
        if (value == null) {
            return null;
        }
        if (value.getClass().isArray() || value instanceof java.util.Collection) {
            return attribute.id() + " takes one value, not a list";
        }
        String text = value.toString().trim();
        String type = attribute.type();
        switch (type) {
            case "Integer", "Long", "Short", "Byte" -> {
                long number;
                try {
                    number = Long.parseLong(text);
                } catch (NumberFormatException e) {
                    return attribute.id() + " = '" + shorten(text) + "' is not a whole number";
                }
                long low = type.equals("Integer") ? Integer.MIN_VALUE : type.equals("Short") ? Short.MIN_VALUE
                        : type.equals("Byte") ? Byte.MIN_VALUE : Long.MIN_VALUE;
                long high = type.equals("Integer") ? Integer.MAX_VALUE : type.equals("Short") ? Short.MAX_VALUE
                        : type.equals("Byte") ? Byte.MAX_VALUE : Long.MAX_VALUE;
                if (!attribute.min().isEmpty()) {
                    low = Math.max(low, Long.parseLong(attribute.min()));
                }
                if (!attribute.max().isEmpty()) {
                    high = Math.min(high, Long.parseLong(attribute.max()));
                }
                if (number < low) {
                    return attribute.id() + " = " + number + " is below its minimum " + low;
                }
                if (number > high) {
                    return attribute.id() + " = " + number + " is above its maximum " + high;
                }
                return null;
            }
            case "Boolean" -> {
                String lower = text.toLowerCase(Locale.ROOT);
                return lower.equals("true") || lower.equals("false") ? null
                        : attribute.id() + " = '" + shorten(text) + "' is not true or false";
            }
            case "Double", "Float" -> {
                try {
                    Double.parseDouble(text);
                    return null;
                } catch (NumberFormatException e) {
                    return attribute.id() + " = '" + shorten(text) + "' is not a number";
                }
            }
            default -> {
                if (!attribute.min().isEmpty() && text.length() < Integer.parseInt(attribute.min())) {
                    return attribute.id() + " must have at least " + attribute.min() + " characters";
                }
                if (!attribute.max().isEmpty() && text.length() > Integer.parseInt(attribute.max())) {
                    return attribute.id() + " must have at most " + attribute.max() + " characters";
                }
                return null;
            }
        }
    }

    private static String shorten(String text) {
        return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }

    /**
     * The outcome of a check.
     *
     * @param pid         the configuration checked
     * @param problems    one line per bad value, naming its key; empty when the configuration is usable
     * @param unknownKeys keys the definition does not know (with a hint where there is one)
     */
    public record Result(String pid, List<String> problems, List<String> unknownKeys) {

        public boolean ok() {
            return problems.isEmpty();
        }

        /** One line for the log: what was refused and that the old settings stay. */
        public String refusal(String keeping) {
            return "configuration " + pid + " refused, " + keeping + ": " + String.join("; ", problems);
        }

        /** One line for the log about unknown keys, or null when there are none. */
        public String unknownKeysWarning() {
            return unknownKeys.isEmpty() ? null : "configuration " + pid + ": unknown key(s) ignored: "
                    + String.join(", ", new TreeSet<>(unknownKeys));
        }
    }
}
