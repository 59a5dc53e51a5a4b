package dev.berth.gateway.session;

import dev.berth.gateway.launcher.LaunchProgress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The steps of a session's launch so far (of queued, only the latest), and the clients waiting for
 * the session that want to hear of each. On the control loop, as its session.
 */
final class LaunchSteps implements LaunchProgress {

    private final List<Progress> steps = new ArrayList<>();
    private final List<Consumer<Progress>> watchers = new ArrayList<>();

    @Override
    public void queued(int ahead) {
        told(new Progress(Progress.Phase.QUEUED, ahead));
    }

    @Override
    public void starting() {
        told(new Progress(Progress.Phase.STARTING, 0));
    }

    @Override
    public void scheduled() {
        told(new Progress(Progress.Phase.SCHEDULED, 0));
    }

    @Override
    public void pulling() {
        told(new Progress(Progress.Phase.PULLING, 0));
    }

    @Override
    public void running() {
        told(new Progress(Progress.Phase.RUNNING, 0));
    }

    /** Tells {@code watcher} every step from now on, and, with {@code soFar}, those already taken. */
    void watch(Consumer<Progress> watcher, boolean soFar) {
        watchers.add(watcher);
        if (soFar) {
            steps.forEach(watcher);
        }
    }

    void unwatch(Consumer<Progress> watcher) {
        watchers.remove(watcher);
    }

    private void told(Progress step) {
        boolean stillQueued = step.phase() == Progress.Phase.QUEUED
                && !steps.isEmpty()
                && steps.get(steps.size() - 1).phase() == Progress.Phase.QUEUED;
        if (stillQueued) {
            steps.remove(steps.size() - 1);
        }
        steps.add(step);
        List.copyOf(watchers).forEach(watcher -> watcher.accept(step));
    }
}
