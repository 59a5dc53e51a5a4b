package dev.berth.gateway.launcher;

import dev.berth.gateway.failure.Failure;
import dev.berth.gateway.failure.FailureException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;

/**
 * Lets at most {@code sessions.launches.maxConcurrent} launches run at once, with a short queue
 * behind them, so a burst of new sessions cannot swamp the engine and the machine while live
 * sessions run. The registry asks {@link #hasRoom} before it opens a session, so a full queue is
 * refused before the upgrade and costs no container. Event-loop only.
 */
public final class LaunchGate extends ForwardingLauncher {

    private record Waiting(LaunchRequest request, Promise<Backend> launched) {}

    private final int maxConcurrent;
    private final int maxQueued;
    private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
    private int running;

    public LaunchGate(Launcher launcher, int maxConcurrent, int maxQueued) {
        super(launcher);
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
    }

    /** Whether a launch would run at once, with nothing waiting: background work (pool refills) only runs then. */
    public boolean idleSlot() {
        return running < maxConcurrent && queue.isEmpty();
    }

    /** Whether one more launch would run now or find a place in the queue. */
    public boolean hasRoom() {
        return running < maxConcurrent || queue.size() < maxQueued;
    }

    @Override
    public Future<Backend> launch(LaunchRequest request) {
        if (running < maxConcurrent) {
            return start(request);
        }
        if (queue.size() >= maxQueued) {
            return Future.failedFuture(new FailureException(
                    Failure.LAUNCH_QUEUE_FULL,
                    maxConcurrent + " launches run and " + maxQueued
                            + " wait (sessions.launches.maxConcurrent, sessions.launches.queue)"));
        }
        Promise<Backend> launched = Promise.promise();
        request.progress().queued(queue.size());
        Waiting waiting = new Waiting(request, launched);
        queue.add(waiting);
        request.withdrawn().onComplete(gaveUp -> {
            if (queue.remove(waiting)) {
                launched.fail(new FailureException(Failure.ABANDONED, "withdrawn while it waited for a launch slot"));
            }
        });
        return launched.future();
    }

    /** Launches running and waiting now, for the leak audit. */
    public int inFlight() {
        return running + queue.size();
    }

    private Future<Backend> start(LaunchRequest request) {
        running++;
        return launcher.launch(request).onComplete(done -> {
            running--;
            Waiting next = queue.poll();
            if (next != null) {
                start(next.request()).onComplete(next.launched());
            }
        });
    }
}
