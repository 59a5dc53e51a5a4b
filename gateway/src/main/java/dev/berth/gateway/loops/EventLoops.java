package dev.berth.gateway.loops;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The event loops frames travel on, and the hops between them and the control loop.
 *
 * <p>The gateway has one control loop (its verticle's context): the session registry, the
 * sessions' state machines, the pools and the launchers live there, single-threaded as before.
 * Frames travel on the data loops, one per core: the edge listens on each of them, and a session's
 * pipe lives on the loop its backend websocket was dialled from, which is the loop its first
 * client arrived on. A client that comes back on another loop is still piped, its events hopping
 * to the pipe's loop (docs/architecture.md "Event loops").
 */
public final class EventLoops {

    private final List<Context> loops;
    private final AtomicInteger turn = new AtomicInteger();

    private EventLoops(List<Context> loops) {
        this.loops = List.copyOf(loops);
    }

    /**
     * {@code count} event-loop contexts, each on an event loop of its own while Vert.x has enough.
     * What is opened on them (the edge's servers) closes with {@code owner}'s deployment, after its
     * stop: not before, as Vert.x closes what belongs to no deployment when it shuts down.
     */
    public static EventLoops create(Context owner, int count) {
        ContextInternal deployment = (ContextInternal) owner;
        List<Context> loops = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            loops.add(deployment
                    .owner()
                    .contextBuilder()
                    .withThreadingModel(ThreadingModel.EVENT_LOOP)
                    .withCloseFuture(deployment.closeFuture())
                    .build());
        }
        return new EventLoops(loops);
    }

    public List<Context> all() {
        return loops;
    }

    /** The loops in turn, for what no client placed: adopted sessions and pool entries. */
    public Context next() {
        return loops.get(Math.floorMod(turn.getAndIncrement(), loops.size()));
    }

    /**
     * Runs {@code task} on {@code on} (at once if this thread is its loop) and completes the returned
     * future on the caller's context, so what the caller composes on it runs where the caller does.
     */
    public static <T> Future<T> call(Context on, Supplier<Future<T>> task) {
        Promise<T> answered = callerPromise();
        ((ContextInternal) on).emit(v -> {
            try {
                task.get().onComplete(answered);
            } catch (RuntimeException e) {
                answered.fail(e);
            }
        });
        return answered.future();
    }

    /** {@code future}, with its listeners called on the caller's context rather than the completer's. */
    public static <T> Future<T> here(Future<T> future) {
        Promise<T> here = callerPromise();
        future.onComplete(here);
        return here.future();
    }

    /** Runs {@code task} on {@code on}: at once if this thread is its loop, else queued there. */
    public static void run(Context on, Runnable task) {
        ((ContextInternal) on).emit(v -> task.run());
    }

    /** {@code handler}, always called on {@code on}: at once when the event arrives on its loop, else hopping there. */
    public static <T> Handler<T> on(Context on, Handler<T> handler) {
        ContextInternal target = (ContextInternal) on;
        return event -> target.emit(event, handler);
    }

    /** Whether the two contexts run on the same thread, so one's handlers may touch the other's state. */
    public static boolean sameLoop(Context a, Context b) {
        return ((ContextInternal) a).nettyEventLoop() == ((ContextInternal) b).nettyEventLoop();
    }

    private static <T> Promise<T> callerPromise() {
        ContextInternal caller = ContextInternal.current();
        return caller == null ? Promise.promise() : caller.promise();
    }
}
