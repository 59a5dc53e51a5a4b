package dev.berth.gateway;

import dev.berth.gateway.launcher.InJvmLauncher;

/** The shipped handlers an {@link InJvmLauncher} runs inside the test JVM. */
final class InJvmTestBackends implements TestBackends {

    private final InJvmLauncher launcher;

    InJvmTestBackends(InJvmLauncher launcher) {
        this.launcher = launcher;
    }

    @Override
    public int running(String route, String sessionKey) {
        return launcher.running(route, sessionKey).size();
    }

    @Override
    public int running(String route) {
        return launcher.running(route, null).size();
    }

    @Override
    public String address(String route, String sessionKey) {
        return launcher.address(sessionKey);
    }

    @Override
    public void kill(String route, String sessionKey) {
        launcher.kill(sessionKey);
    }

    @Override
    public int removeAll(String route) {
        return launcher.removeAll(route);
    }

    @Override
    public void close() {}
}
