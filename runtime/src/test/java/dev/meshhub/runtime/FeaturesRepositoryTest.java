package dev.meshhub.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.Test;

public class FeaturesRepositoryTest {

    private static final String NS = "xmlns=\"http://karaf.apache.org/xmlns/features/v1.6.0\"";

    private static FeaturesRepository parse(String xml) throws IOException {
        return FeaturesRepository.parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)), "test.xml");
    }

    private static List<String> locations(List<BundleSpec> bundles) {
        return bundles.stream().map(BundleSpec::location).collect(Collectors.toList());
    }

    @Test
    public void dependenciesComeFirstInDocumentOrder() throws IOException {
        FeaturesRepository repository = parse("""
                <features name="r" %s>
                  <feature name="app">
                    <feature>base</feature>
                    <feature>lib</feature>
                    <bundle>mvn:g/app/1</bundle>
                  </feature>
                  <feature name="lib">
                    <feature>base</feature>
                    <bundle>mvn:g/lib/1</bundle>
                  </feature>
                  <feature name="base">
                    <bundle>mvn:g/base-a/1</bundle>
                    <bundle>mvn:g/base-b/1</bundle>
                  </feature>
                </features>
                """.formatted(NS));

        assertEquals(List.of("mvn:g/base-a/1", "mvn:g/base-b/1", "mvn:g/lib/1", "mvn:g/app/1"),
                locations(repository.resolve("app")));
        assertEquals(Set.of("app", "base", "lib"), repository.featureNames());
        assertEquals("r", repository.name());
    }

    @Test
    public void aBundleListedByTwoFeaturesIsInstalledOnceWhereFirstMet() throws IOException {
        FeaturesRepository repository = parse("""
                <features %s>
                  <feature name="a"><bundle start-level="30">mvn:g/shared/1</bundle><bundle>mvn:g/a/1</bundle></feature>
                  <feature name="b"><bundle>mvn:g/b/1</bundle><bundle start-level="20">mvn:g/shared/1</bundle></feature>
                </features>
                """.formatted(NS));

        List<BundleSpec> bundles = repository.resolve("a", "b");

        assertEquals(List.of("mvn:g/shared/1", "mvn:g/a/1", "mvn:g/b/1"), locations(bundles));
        assertEquals("the lower explicit start level wins", 20, bundles.get(0).startLevel());
    }

    @Test
    public void cyclesEndInsteadOfLooping() throws IOException {
        FeaturesRepository repository = parse("""
                <features %s>
                  <feature name="a"><feature>b</feature><bundle>mvn:g/a/1</bundle></feature>
                  <feature name="b"><feature>c</feature><bundle>mvn:g/b/1</bundle></feature>
                  <feature name="c"><feature>a</feature><feature>c</feature><bundle>mvn:g/c/1</bundle></feature>
                </features>
                """.formatted(NS));

        assertEquals(List.of("mvn:g/c/1", "mvn:g/b/1", "mvn:g/a/1"), locations(repository.resolve("a")));
        assertEquals(List.of("mvn:g/a/1", "mvn:g/c/1", "mvn:g/b/1"), locations(repository.resolve("b")));
    }

    @Test
    public void startLevelsAndStartFlagsAreRead() throws IOException {
        FeaturesRepository repository = parse("""
                <features %s>
                  <feature name="f">
                    <bundle start-level="5">mvn:g/early/1</bundle>
                    <bundle>
                      mvn:g/unleveled/1
                    </bundle>
                    <bundle start-level="80" start="false">mvn:g/library/1</bundle>
                  </feature>
                </features>
                """.formatted(NS));

        List<BundleSpec> bundles = repository.resolve("f");

        assertEquals(new BundleSpec("mvn:g/early/1", 5, true), bundles.get(0));
        assertEquals(new BundleSpec("mvn:g/unleveled/1", BundleSpec.DEFAULT_START_LEVEL, true), bundles.get(1));
        assertFalse(bundles.get(1).hasStartLevel());
        assertEquals(new BundleSpec("mvn:g/library/1", 80, false), bundles.get(2));
    }

    @Test
    public void aBadStartLevelNamesTheBundle() throws IOException {
        try {
            parse("<features " + NS + "><feature name='f'><bundle start-level='x'>mvn:g/a/1</bundle></feature></features>");
            fail("accepted start-level x");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("mvn:g/a/1") && e.getMessage().contains("'x'"));
        }
    }

    @Test
    public void anUnknownFeatureIsNamedWithTheKnownOnes() throws IOException {
        FeaturesRepository repository = parse("""
                <features %s>
                  <feature name="zeta"><bundle>mvn:g/z/1</bundle></feature>
                  <feature name="alpha"><bundle>mvn:g/a/1</bundle></feature>
                </features>
                """.formatted(NS));
        try {
            repository.resolve("nope");
            fail("resolved an unknown feature");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("unknown feature 'nope'"));
            assertTrue(e.getMessage(), e.getMessage().endsWith("known features: alpha, zeta"));
        }
    }

    @Test
    public void anUnknownDependencyNamesTheFeatureThatNeedsIt() throws IOException {
        FeaturesRepository repository = parse(
                "<features " + NS + "><feature name='app'><feature>missing</feature></feature></features>");
        try {
            repository.resolve("app");
            fail("resolved a feature with an unknown dependency");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("unknown feature 'missing' (required by feature 'app')"));
        }
    }

    @Test
    public void karafOnlyElementsAreIgnoredAndOlderSchemasRead() throws IOException {
        FeaturesRepository repository = parse("""
                <features xmlns="http://karaf.apache.org/xmlns/features/v1.0.0">
                  <repository>mvn:other/features/1/xml/features</repository>
                  <feature name="f" version="1.0">
                    <details>text</details>
                    <config name="pid">key = value</config>
                    <configfile finalname="/etc/x.cfg">mvn:g/x/1/cfg</configfile>
                    <conditional><condition>webconsole</condition><bundle>mvn:g/plugin/1</bundle></conditional>
                    <bundle dependency="true">mvn:g/f/1</bundle>
                  </feature>
                </features>
                """);

        assertEquals(List.of("mvn:g/f/1"), locations(repository.resolve("f")));
    }

    @Test
    public void aNameWithSeveralVersionsResolvesToTheRequestedOrElseTheHighest() throws IOException {
        FeaturesRepository repository = parse("""
                <features %s>
                  <feature name="lib" version="1.10.0"><bundle>mvn:g/lib/1.10.0</bundle></feature>
                  <feature name="lib" version="1.9.0"><bundle>mvn:g/lib/1.9.0</bundle></feature>
                  <feature name="old"><feature version="1.9.0">lib</feature></feature>
                </features>
                """.formatted(NS));

        assertEquals(List.of("mvn:g/lib/1.10.0"), locations(repository.resolve("lib")));
        assertEquals(List.of("mvn:g/lib/1.9.0"), locations(repository.resolve("old")));
    }

    @Test
    public void aDoctypeIsRefusedSoNoEntityIsEverExpanded() throws IOException {
        String xxe = """
                <?xml version="1.0"?>
                <!DOCTYPE features [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
                <features %s><feature name="f"><bundle>&secret;</bundle></feature></features>
                """.formatted(NS);
        try {
            parse(xxe);
            fail("parsed a document with a DOCTYPE");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("test.xml") && e.getMessage().contains("DOCTYPE"));
        }
    }

    @Test
    public void aDocumentThatIsNotAFeaturesRepositoryIsRefused() throws IOException {
        try {
            parse("<project><feature name='f'/></project>");
            fail("accepted <project>");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("not a Karaf features repository"));
        }
    }

    @Test
    public void versionsCompareNumerically() {
        assertTrue(FeaturesRepository.compareVersions("1.10.0", "1.9.0") > 0);
        assertTrue(FeaturesRepository.compareVersions("1.0", "1.0.0") == 0);
        assertTrue(FeaturesRepository.compareVersions("0.1.0-SNAPSHOT", "0.1.0") > 0);
    }
}
