package dev.berth.gateway;

import java.util.Comparator;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;
import org.junit.jupiter.api.Tag;

/**
 * Orders the test classes for the parallel run (three threads, see
 * src/test/resources/junit-platform.properties). JUnit works the list from both ends: the thread
 * that forked the classes takes them from the back, the other threads steal from the front. The
 * engine's classes (tagged {@code slow}, then {@code engine}) go to the front, the costliest first
 * ({@link CpuCost}): long and CPU-bound, they keep the two stealing threads busy from the start, and
 * the last of them to start is a light one. The swarm's classes come first of all: the run's swarm
 * is left when its last class is over, and the run's end waits for that leave (10 s), so it must
 * happen while other classes still run. The classes tagged {@code long} (ten
 * seconds and more of timers and child JVMs, little CPU) go to the back, where the forking thread
 * starts on them while the engine's classes run; the short ones are in the middle and fill the
 * gaps at the end. Without this, the timer-bound classes ran last, at a third of the machine.
 */
public final class SlowFirst implements ClassOrderer {

    @Override
    public void orderClasses(ClassOrdererContext context) {
        context.getClassDescriptors()
                .sort(Comparator.comparingInt(SlowFirst::rank)
                        .thenComparing(
                                Comparator.comparingInt(SlowFirst::cpuSeconds).reversed())
                        .thenComparing(descriptor -> descriptor.getTestClass().getName()));
    }

    private static int cpuSeconds(ClassDescriptor descriptor) {
        return descriptor.findAnnotation(CpuCost.class).map(CpuCost::seconds).orElse(0);
    }

    private static int rank(ClassDescriptor descriptor) {
        Set<String> tags = descriptor.findRepeatableAnnotations(Tag.class).stream()
                .map(Tag::value)
                .collect(Collectors.toSet());
        if (tags.contains("swarm")) {
            return 0;
        }
        if (tags.contains("slow")) {
            return 1;
        }
        return tags.contains("engine") ? 2 : tags.contains("long") ? 4 : 3;
    }
}
