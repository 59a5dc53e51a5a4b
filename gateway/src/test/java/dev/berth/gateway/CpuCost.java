package dev.berth.gateway;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Roughly how many seconds of CPU a heavy test class costs the machine (engine, child JVMs and test
 * JVM together), measured by running the class alone with the CPU sampled:
 * {@code mvn -o test -pl gateway -Dgroups=slow -DargLine="-XX:TieredStopAtLevel=1
 * -Djunit.jupiter.execution.parallel.enabled=false"} while {@code /proc/stat} is read every second.
 * {@link SlowFirst} starts the costliest first, so that the last heavy class to start is a light
 * one and the run does not end on one class at a third of the machine.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
public @interface CpuCost {
    int seconds();
}
