package dev.meshhub.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * A Karaf features repository (features XML, any schema version from 1.0.0 to 1.6.0), read for what
 * a launcher needs: which bundles a feature stands for, in which order, at which start level.
 *
 * <p>Only {@code <feature>} references and {@code <bundle>} elements count. Configuration elements,
 * capabilities, requirements and {@code <conditional>} blocks are Karaf's business and are ignored;
 * the {@code dependency} flag of a bundle is ignored too (every bundle listed is installed).
 */
public final class FeaturesRepository {

    private final String name;
    private final String source;
    /** Features by name; a name may carry several versions. */
    private final Map<String, List<Feature>> features;

    private FeaturesRepository(String name, String source, Map<String, List<Feature>> features) {
        this.name = name;
        this.source = source;
        this.features = features;
    }

    /** Reads the repository in {@code file}. */
    public static FeaturesRepository read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        }
    }

    /**
     * Parses a repository.
     *
     * @param in     the XML; not closed
     * @param source where it comes from, for messages
     * @throws IllegalArgumentException if it is not well-formed, carries a DOCTYPE, or is not a features repository
     */
    public static FeaturesRepository parse(InputStream in, String source) throws IOException {
        Document document;
        try {
            document = newSecureBuilder().parse(in);
        } catch (SAXException e) {
            throw new IllegalArgumentException("cannot read features repository " + source + ": " + e.getMessage(), e);
        }
        Element root = document.getDocumentElement();
        if (!"features".equals(localName(root))) {
            throw new IllegalArgumentException("not a Karaf features repository: " + source
                    + " has root element <" + localName(root) + ">, expected <features>");
        }
        Map<String, List<Feature>> features = new LinkedHashMap<>();
        for (Element element : children(root, "feature")) {
            Feature feature = readFeature(element, source);
            features.computeIfAbsent(feature.name, n -> new ArrayList<>()).add(feature);
        }
        return new FeaturesRepository(root.getAttribute("name"), source, features);
    }

    /** The repository's {@code name} attribute ("" when absent). */
    public String name() {
        return name;
    }

    /** Names of the features this repository defines, sorted. */
    public Set<String> featureNames() {
        return new TreeSet<>(features.keySet());
    }

    /** Same as {@link #resolve(Collection)} for one or more names. */
    public List<BundleSpec> resolve(String... featureNames) {
        return resolve(List.of(featureNames));
    }

    /**
     * The bundles that the named features stand for, dependencies included.
     *
     * <p>Order: depth first, a feature's dependencies (in document order) before its own bundles.
     * Each bundle location appears once, where it is first met; if it is listed again with another
     * start level the lower explicit one is kept, and it is started if any listing starts it. A feature
     * reached again (through a diamond or a cycle) adds nothing more.
     *
     * @throws IllegalArgumentException naming the feature and the known ones, if a feature is unknown
     */
    public List<BundleSpec> resolve(Collection<String> featureNames) {
        Map<String, BundleSpec> bundles = new LinkedHashMap<>();
        Set<Feature> visited = new HashSet<>();
        for (String featureName : featureNames) {
            collect(lookup(featureName.trim(), null, null), visited, bundles);
        }
        return List.copyOf(bundles.values());
    }

    /**
     * The locations of the configuration files every feature of this repository ships
     * ({@code <configfile>}), in document order. The launcher does not install them (the runtime's
     * etc/ holds the same files); they are for Karaf, and checked to be in system/.
     */
    public List<String> configFiles() {
        List<String> locations = new ArrayList<>();
        features.values().forEach(versions -> versions.forEach(feature -> locations.addAll(feature.configFiles)));
        return locations;
    }

    /**
     * The configuration PID a feature's {@code <configfile>} location ({@code mvn:dev.meshhub/features/V/cfg/NAME})
     * configures: {@code dev.meshhub.NAME}, except Felix HTTP Jetty's own ({@code felix-http}:
     * {@code org.apache.felix.http}). The file in etc/ is the PID plus {@code .cfg}.
     */
    public static String pidOf(String configLocation) {
        String name = configLocation.substring(configLocation.lastIndexOf('/') + 1);
        return name.equals("felix-http") ? "org.apache.felix.http" : "dev.meshhub." + name;
    }

    /** The configuration files the named features ship, dependencies included, each once. */
    public List<String> configFiles(Collection<String> featureNames) {
        Set<Feature> visited = new HashSet<>();
        Set<String> locations = new java.util.LinkedHashSet<>();
        for (String featureName : featureNames) {
            collectConfigFiles(lookup(featureName.trim(), null, null), visited, locations);
        }
        return List.copyOf(locations);
    }

    private void collectConfigFiles(Feature feature, Set<Feature> visited, Set<String> locations) {
        if (!visited.add(feature)) {
            return;
        }
        for (FeatureRef ref : feature.dependencies) {
            collectConfigFiles(lookup(ref.name, ref.version, feature), visited, locations);
        }
        locations.addAll(feature.configFiles);
    }

    private void collect(Feature feature, Set<Feature> visited, Map<String, BundleSpec> bundles) {
        if (!visited.add(feature)) {
            return;
        }
        for (FeatureRef ref : feature.dependencies) {
            collect(lookup(ref.name, ref.version, feature), visited, bundles);
        }
        for (BundleSpec bundle : feature.bundles) {
            bundles.merge(bundle.location(), bundle, FeaturesRepository::merge);
        }
    }

    private static BundleSpec merge(BundleSpec first, BundleSpec again) {
        int level;
        if (!first.hasStartLevel() || !again.hasStartLevel()) {
            level = Math.max(first.startLevel(), again.startLevel());
        } else {
            level = Math.min(first.startLevel(), again.startLevel());
        }
        return new BundleSpec(first.location(), level, first.start() || again.start());
    }

    /** The feature called {@code featureName}: the given version if defined, otherwise the highest. */
    private Feature lookup(String featureName, String version, Feature requiredBy) {
        List<Feature> candidates = features.get(featureName);
        if (candidates == null) {
            throw new IllegalArgumentException("unknown feature '" + featureName + "'"
                    + (requiredBy == null ? "" : " (required by feature '" + requiredBy.name + "')")
                    + " in " + source + "; known features: " + String.join(", ", featureNames()));
        }
        Feature best = null;
        for (Feature candidate : candidates) {
            if (version != null && version.equals(candidate.version)) {
                return candidate;
            }
            if (best == null || compareVersions(candidate.version, best.version) > 0) {
                best = candidate;
            }
        }
        return best;
    }

    private static Feature readFeature(Element element, String source) {
        String featureName = element.getAttribute("name").trim();
        if (featureName.isEmpty()) {
            throw new IllegalArgumentException("a <feature> without a name in " + source);
        }
        String version = element.getAttribute("version").trim();
        List<FeatureRef> dependencies = new ArrayList<>();
        List<BundleSpec> bundles = new ArrayList<>();
        List<String> configFiles = new ArrayList<>();
        for (Element child : children(element, null)) {
            switch (localName(child)) {
                case "feature" -> {
                    String ref = child.getTextContent().trim();
                    if (ref.isEmpty()) {
                        throw new IllegalArgumentException("feature '" + featureName + "' in " + source
                                + " refers to a feature without a name");
                    }
                    String refVersion = child.getAttribute("version").trim();
                    dependencies.add(new FeatureRef(ref, refVersion.isEmpty() ? null : refVersion));
                }
                case "bundle" -> bundles.add(readBundle(child, featureName, source));
                case "configfile" -> configFiles.add(child.getTextContent().trim());
                default -> {
                    // config, conditional, capability, requirement, details, library: Karaf's
                }
            }
        }
        return new Feature(featureName, version.isEmpty() ? "0.0.0" : version, dependencies, bundles, configFiles);
    }

    private static BundleSpec readBundle(Element element, String featureName, String source) {
        String location = element.getTextContent().trim();
        if (location.isEmpty()) {
            throw new IllegalArgumentException("feature '" + featureName + "' in " + source + " has an empty <bundle>");
        }
        int startLevel = BundleSpec.DEFAULT_START_LEVEL;
        String level = element.getAttribute("start-level").trim();
        if (!level.isEmpty()) {
            try {
                startLevel = Integer.parseInt(level);
            } catch (NumberFormatException e) {
                startLevel = -1;
            }
            if (startLevel < 0) {
                throw new IllegalArgumentException("feature '" + featureName + "' in " + source
                        + ": start-level of " + location + " is not a non-negative number: '" + level + "'");
            }
        }
        String start = element.getAttribute("start").trim();
        return new BundleSpec(location, startLevel, start.isEmpty() || Boolean.parseBoolean(start));
    }

    /**
     * A parser that refuses DOCTYPEs and never fetches anything: a features file is configuration,
     * and nothing in the format needs entities.
     */
    private static DocumentBuilder newSecureBuilder() {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature("http://xml.org/sax/features/external-general-entities", false);
            factory.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            factory.setXIncludeAware(false);
            factory.setExpandEntityReferences(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setErrorHandler(new ErrorHandler() { // thrown, never printed to stderr
                @Override
                public void warning(SAXParseException e) {
                }

                @Override
                public void error(SAXParseException e) throws SAXException {
                    throw e;
                }

                @Override
                public void fatalError(SAXParseException e) throws SAXException {
                    throw e;
                }
            });
            return builder;
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("the JDK's XML parser lacks a required security feature", e);
        }
    }

    private static List<Element> children(Element parent, String localName) {
        List<Element> result = new ArrayList<>();
        for (Node node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element element && (localName == null || localName.equals(localName(element)))) {
                result.add(element);
            }
        }
        return result;
    }

    private static String localName(Element element) {
        return element.getLocalName() != null ? element.getLocalName() : element.getTagName();
    }

    /** Compares dotted versions part by part, numerically where both parts are numbers. */
    static int compareVersions(String a, String b) {
        String[] left = a.split("[.\\-]");
        String[] right = b.split("[.\\-]");
        for (int i = 0; i < Math.max(left.length, right.length); i++) {
            String l = i < left.length ? left[i] : "0";
            String r = i < right.length ? right[i] : "0";
            int c;
            if (l.chars().allMatch(Character::isDigit) && r.chars().allMatch(Character::isDigit)
                    && !l.isEmpty() && !r.isEmpty()) {
                c = new BigInteger(l).compareTo(new BigInteger(r));
            } else {
                c = l.compareTo(r);
            }
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private record FeatureRef(String name, String version) {
    }

    /** Identity matters (visited set), so a plain class rather than a record. */
    private static final class Feature {
        final String name;
        final String version;
        final List<FeatureRef> dependencies;
        final List<BundleSpec> bundles;
        /** Where the feature's {@code <configfile>}s come from (Karaf copies them to etc/; the launcher ships its own). */
        final List<String> configFiles;

        Feature(String name, String version, List<FeatureRef> dependencies, List<BundleSpec> bundles, List<String> configFiles) {
            this.name = name;
            this.version = version;
            this.dependencies = List.copyOf(dependencies);
            this.bundles = List.copyOf(bundles);
            this.configFiles = List.copyOf(configFiles);
        }
    }
}
