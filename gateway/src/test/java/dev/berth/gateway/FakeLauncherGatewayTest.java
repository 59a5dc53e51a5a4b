package dev.berth.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.berth.gateway.launcher.FakeLauncher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the fast gateway tests share: a real gateway on ephemeral ports whose launcher is a
 * {@link FakeLauncher} (echo backends inside this JVM). The gateway a test started is closed after
 * it, and it must have stopped every backend it launched.
 */
@ExtendWith(VertxExtension.class)
public abstract class FakeLauncherGatewayTest {

    protected Vertx vertx;
    protected FakeLauncher launcher;
    protected TestGateway gateway;

    /** How long each fake launch takes: none unless a test class says otherwise. */
    protected Duration launchTime() {
        return Duration.ZERO;
    }

    @BeforeEach
    final void startFakeLauncher(Vertx vertx) {
        this.vertx = vertx;
        this.launcher = new FakeLauncher(vertx, launchTime());
    }

    @AfterEach
    final void closeGatewayAndCheckEveryBackendStopped() throws Exception {
        if (gateway != null) {
            gateway.close();
        }
        assertEquals(0, launcher.running(), "backends left running after the gateway stopped");
    }

    /** A gateway on the fake launcher, to configure and start. */
    protected TestGateway.Builder gatewayOn() {
        return TestGateway.with((v, config, watch) -> Future.succeededFuture(launcher));
    }
}
