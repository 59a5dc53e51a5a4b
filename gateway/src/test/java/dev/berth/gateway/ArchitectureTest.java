package dev.berth.gateway;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shape of the house (docs/architecture.md): its floors, the launcher's seam, and rooms small
 * enough to read. A change that breaks one of these says which rule and where.
 */
class ArchitectureTest {

    /** The most lines a main source file may have, in the gateway and in the handler. */
    private static final int MAX_LINES = 400;

    private static JavaClasses gateway;

    @BeforeAll
    static void importMainClasses() {
        gateway = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.berth.gateway");
    }

    @Test
    void everyFloorUsesOnlyTheFloorsBelowIt() {
        layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("wiring")
                .definedBy("dev.berth.gateway")
                .layer("metrics")
                .definedBy("dev.berth.gateway.metrics..")
                .layer("front")
                .definedBy("dev.berth.gateway.edge..", "dev.berth.gateway.admin..")
                .layer("sessions")
                .definedBy("dev.berth.gateway.session..")
                .layer("pool")
                .definedBy("dev.berth.gateway.pool..")
                .layer("pipe")
                .definedBy("dev.berth.gateway.pipe..")
                .layer("launchers")
                .definedBy("dev.berth.gateway.launcher..")
                .layer("models")
                .definedBy("dev.berth.gateway.config..", "dev.berth.gateway.failure..", "dev.berth.gateway.loops..")
                // Metrics implements the meters every floor declares, and only the wiring hands it out.
                .whereLayer("metrics")
                .mayOnlyBeAccessedByLayers("wiring")
                .whereLayer("front")
                .mayOnlyBeAccessedByLayers("wiring", "metrics")
                .whereLayer("sessions")
                .mayOnlyBeAccessedByLayers("wiring", "metrics", "front")
                .whereLayer("pool")
                .mayOnlyBeAccessedByLayers("wiring", "metrics", "front", "sessions")
                .whereLayer("pipe")
                .mayOnlyBeAccessedByLayers("wiring", "metrics", "front", "sessions", "pool")
                .whereLayer("launchers")
                .mayOnlyBeAccessedByLayers("wiring", "metrics", "front", "sessions", "pool", "pipe")
                .check(gateway);
    }

    @Test
    void noTwoPackagesDependOnEachOther() {
        slices().matching("dev.berth.gateway.(*)..").should().beFreeOfCycles().check(gateway);
    }

    /**
     * A launcher is reached through {@code Launcher} and the factory: what only the launchers use stays
     * package-private, so the next launcher moves in beside them without a public surface to keep.
     */
    @Test
    void aPublicLauncherClassIsOneAnotherPackageUses() {
        List<String> publicForNothing = gateway.stream()
                .filter(type -> type.getPackageName().equals("dev.berth.gateway.launcher"))
                .filter(type -> type.getModifiers().contains(JavaModifier.PUBLIC) && type.isTopLevelClass())
                .filter(type -> type.getDirectDependenciesToSelf().stream()
                        .map(dependency -> dependency.getOriginClass())
                        .map(JavaClass::getPackageName)
                        .noneMatch(user -> !user.equals("dev.berth.gateway.launcher")))
                // a public decorator's base class is part of the decorator's public face
                .filter(type -> type.getSubclasses().stream()
                        .noneMatch(sub -> sub.getModifiers().contains(JavaModifier.PUBLIC)))
                .map(JavaClass::getSimpleName)
                .sorted()
                .toList();
        assertEquals(
                List.of(),
                publicForNothing,
                "public, but used only inside dev.berth.gateway.launcher: make them package-private");
    }

    @Test
    void noMainSourceFileIsOverFourHundredLines() throws IOException {
        List<String> tooLong;
        try (Stream<Path> files = Stream.of("gateway", "handler-image")
                .map(module -> TestGateway.ROOT.resolve(module).resolve("src/main/java"))
                .flatMap(ArchitectureTest::javaFiles)) {
            tooLong = files.filter(file -> lines(file) > MAX_LINES)
                    .map(file -> TestGateway.ROOT.relativize(file) + " (" + lines(file) + " lines)")
                    .sorted()
                    .toList();
        }
        assertEquals(
                List.of(), tooLong, "main source files over " + MAX_LINES + " lines: split them by responsibility");
    }

    private static Stream<Path> javaFiles(Path sources) {
        assertTrue(Files.isDirectory(sources), "no sources at " + sources);
        try {
            return Files.walk(sources).filter(file -> file.toString().endsWith(".java")).toList().stream();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long lines(Path file) {
        try (Stream<String> lines = Files.lines(file)) {
            return lines.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
