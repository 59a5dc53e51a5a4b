package dev.berth.gateway.launcher;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * At most {@code docker.stopsPerNetwork} container stops and removals at once on one network; the
 * others wait their turn, in order. An endpoint's removal takes a per-network lock in the engine's
 * libnetwork, and a storm of them on one network (a gateway's sessions all ending at once) is what
 * was running when Debian's dockerd 20.10 wedged here. Event-loop only.
 */
final class NetworkStops {

    private final int limit;
    private final Map<String, Integer> running = new HashMap<>();
    private final Map<String, ArrayDeque<Runnable>> waiting = new HashMap<>();

    NetworkStops(int limit) {
        this.limit = limit;
    }

    <T> Future<T> run(String network, Supplier<Future<T>> stop) {
        Promise<T> done = Promise.promise();
        Runnable start = () -> stop.get().onComplete(result -> {
            finished(network);
            done.handle(result);
        });
        if (running.getOrDefault(network, 0) < limit) {
            running.merge(network, 1, Integer::sum);
            start.run();
        } else {
            waiting.computeIfAbsent(network, name -> new ArrayDeque<>()).add(start);
        }
        return done.future();
    }

    private void finished(String network) {
        ArrayDeque<Runnable> queue = waiting.get(network);
        Runnable next = queue == null ? null : queue.poll();
        if (next != null) {
            next.run(); // takes the slot just freed
            return;
        }
        waiting.remove(network);
        running.computeIfPresent(network, (name, count) -> count > 1 ? count - 1 : null);
    }
}
