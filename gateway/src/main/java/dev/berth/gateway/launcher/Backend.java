package dev.berth.gateway.launcher;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.net.SocketAddress;
import java.util.function.Supplier;

/**
 * A running, ready session backend: whose it is, where the gateway dials it (never shown to
 * clients), how it ends, and how to stop it. The handle owns its cleanup, so whoever holds it can
 * always stop it. Used on the event loop only.
 */
public final class Backend {

    private final String description;
    /** The launcher's own name for it, e.g. the container's name; for launchers only. */
    final String reference;

    private final String sessionKey;
    private final String routeName;
    private final String version;
    private final SocketAddress address;
    private final Future<String> exited;
    private final Future<String> movedAway;
    private final Supplier<Future<Void>> stopAction;
    private final Runnable releaseAction;
    private Future<Void> stopping;

    Backend(
            String description,
            String sessionKey,
            String routeName,
            String version,
            SocketAddress address,
            Future<String> exited,
            Supplier<Future<Void>> stopAction) {
        this(description, description, sessionKey, routeName, version, address, exited, stopAction);
    }

    Backend(
            String description,
            String reference,
            String sessionKey,
            String routeName,
            String version,
            SocketAddress address,
            Future<String> exited,
            Supplier<Future<Void>> stopAction) {
        this(
                description,
                reference,
                sessionKey,
                routeName,
                version,
                address,
                exited,
                Promise.<String>promise().future(),
                stopAction,
                () -> {});
    }

    /**
     * @param releaseAction makes the launcher forget this handle without stopping the backend, so its
     *     next look on the engine finds the backend again
     */
    Backend(
            String description,
            String reference,
            String sessionKey,
            String routeName,
            String version,
            SocketAddress address,
            Future<String> exited,
            Future<String> movedAway,
            Supplier<Future<Void>> stopAction,
            Runnable releaseAction) {
        this.description = description;
        this.movedAway = movedAway;
        this.reference = reference;
        this.sessionKey = sessionKey;
        this.routeName = routeName;
        this.version = version;
        this.address = address;
        this.exited = exited;
        this.stopAction = stopAction;
        this.releaseAction = releaseAction;
    }

    /** For log lines, e.g. "container berth-listings-1a2b (3f9e0c12ab34)". */
    public String description() {
        return description;
    }

    /** The same backend, now the backend of session {@code key} (a pooled one, claimed). */
    Backend claimedBy(String key, String newDescription, String newReference) {
        return new Backend(
                newDescription,
                newReference,
                key,
                routeName,
                version,
                address,
                exited,
                movedAway,
                stopAction,
                releaseAction);
    }

    /** Whether {@code other} is a handle on this same container or service (not a second one for the same session). */
    public boolean sameAs(Backend other) {
        return reference.equals(other.reference);
    }

    /** The public key of the session this backend belongs to (from its label or name when re-adopted); null in a pool. */
    public String sessionKey() {
        return sessionKey;
    }

    public String routeName() {
        return routeName;
    }

    /** The handler version it runs (its label when re-adopted). */
    public String version() {
        return version;
    }

    public SocketAddress address() {
        return address;
    }

    /** Completes with a human-readable reason once the backend has exited, however it happened. */
    public Future<String> exited() {
        return exited;
    }

    /**
     * Completes, with the new owner, when another gateway took the session over (its client came
     * back there): the backend runs on, this gateway lets go of it without stopping it.
     */
    public Future<String> movedAway() {
        return movedAway;
    }

    /**
     * Lets go of the backend without stopping it: this gateway holds it no more (it could not reach
     * it, or another gateway may own it now), and the launcher's next look on the engine (the reaper)
     * finds it again, to adopt or remove. Not after {@link #stop()}.
     */
    public void release() {
        if (stopping == null) {
            releaseAction.run();
        }
    }

    /** Stops and removes the backend; idempotent, and "already gone" counts as done. */
    public Future<Void> stop() {
        if (stopping == null) {
            stopping = stopAction.get();
        }
        return stopping;
    }
}
