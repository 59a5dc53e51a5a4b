package dev.berth.gateway;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;
import org.junit.jupiter.api.Tag;

/**
 * Starts the long test classes first (tagged {@code slow}, then {@code engine}) on every thread, so
 * that the short ones fill the gaps at the end instead of a long class starting last and running
 * alone. JUnit's parallel run works a list of classes from both ends (the thread that forked them
 * takes the last, the other threads steal the first), so the long classes go to both ends, one in
 * as many to the back as threads take from there, and the short ones to the middle. Set in
 * src/test/resources/junit-platform.properties.
 */
public final class SlowFirst implements ClassOrderer {

  private static final String PARALLELISM = "junit.jupiter.execution.parallel.config.fixed.parallelism";

  @Override
  public void orderClasses(ClassOrdererContext context) {
    int threads = context.getConfigurationParameter(PARALLELISM).map(Integer::parseInt).orElse(1);
    List<ClassDescriptor> byWeight = new ArrayList<>(context.getClassDescriptors());
    byWeight.sort(Comparator.comparingInt(SlowFirst::rank).thenComparing(descriptor -> descriptor.getTestClass().getName()));
    List<ClassDescriptor> front = new ArrayList<>();
    List<ClassDescriptor> back = new ArrayList<>();
    for (int i = 0; i < byWeight.size(); i++) {
      (i % threads == 0 ? back : front).add(byWeight.get(i));
    }
    Collections.reverse(back);
    List<ClassDescriptor> order = new ArrayList<>(front);
    order.addAll(back);
    context.getClassDescriptors().sort(Comparator.comparingInt(order::indexOf));
  }

  private static int rank(ClassDescriptor descriptor) {
    Set<String> tags = descriptor.findRepeatableAnnotations(Tag.class).stream().map(Tag::value).collect(Collectors.toSet());
    return tags.contains("slow") ? 0 : tags.contains("engine") ? 1 : 2;
  }
}
