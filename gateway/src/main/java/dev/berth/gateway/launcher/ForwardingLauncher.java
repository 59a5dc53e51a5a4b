package dev.berth.gateway.launcher;

import dev.berth.gateway.config.RouteConfig;
import io.vertx.core.Future;
import java.util.List;

/** A launcher that adds to another one: everything it does not override goes to the wrapped launcher. */
public abstract class ForwardingLauncher implements Launcher {

    protected final Launcher launcher;

    protected ForwardingLauncher(Launcher launcher) {
        this.launcher = launcher;
    }

    @Override
    public String name() {
        return launcher.name();
    }

    @Override
    public Future<Backend> launch(LaunchRequest request) {
        return launcher.launch(request);
    }

    @Override
    public Future<List<Backend>> discover() {
        return launcher.discover();
    }

    @Override
    public Future<Backend> claim(Backend pooled, String sessionKey) {
        return launcher.claim(pooled, sessionKey);
    }

    @Override
    public Future<Elsewhere> heldElsewhere() {
        return launcher.heldElsewhere();
    }

    @Override
    public Future<Backend> takeOver(RouteConfig route, String sessionKey) {
        return launcher.takeOver(route, sessionKey);
    }

    @Override
    public Future<Void> prepare(List<RouteConfig> routes) {
        return launcher.prepare(routes);
    }

    @Override
    public EngineStatus engineStatus() {
        return launcher.engineStatus();
    }

    @Override
    public boolean backendsOutliveGateway() {
        return launcher.backendsOutliveGateway();
    }

    @Override
    public Future<Void> close() {
        return launcher.close();
    }
}
