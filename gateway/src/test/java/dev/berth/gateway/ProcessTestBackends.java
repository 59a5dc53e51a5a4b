package dev.berth.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Handler processes behind a test gateway: children of this JVM, told apart by the
 * BERTH_SESSION in their environment and the route in the test's unique command line.
 */
final class ProcessTestBackends implements TestBackends {

    private List<ProcessHandle> handlers(String sessionKey) {
        return ProcessHandle.current()
                .descendants()
                .filter(ProcessHandle::isAlive)
                .filter(p -> environment(p).contains("BERTH_IDLE_GRACE_MS="))
                .filter(p -> sessionKey == null || environment(p).contains("BERTH_SESSION=" + sessionKey + "\0"))
                .toList();
    }

    private static String environment(ProcessHandle process) {
        try {
            return new String(
                    Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "environ")),
                    StandardCharsets.UTF_8);
        } catch (IOException gone) {
            return "";
        }
    }

    // Each test JVM runs one gateway at a time, so the route needs no filter here.
    @Override
    public int running(String route, String sessionKey) {
        return handlers(sessionKey).size();
    }

    @Override
    public int running(String route) {
        return handlers(null).size();
    }

    @Override
    public String address(String route, String sessionKey) {
        String environment = environment(handlers(sessionKey).get(0));
        for (String variable : environment.split("\0")) {
            if (variable.startsWith("BERTH_PORT=")) {
                return "127.0.0.1:" + variable.substring("BERTH_PORT=".length());
            }
        }
        throw new AssertionError("no BERTH_PORT in the handler's environment");
    }

    @Override
    public void kill(String route, String sessionKey) {
        handlers(sessionKey).forEach(ProcessHandle::destroyForcibly);
    }

    @Override
    public int removeAll(String route) {
        List<ProcessHandle> left = handlers(null);
        left.forEach(ProcessHandle::destroyForcibly);
        return left.size();
    }

    @Override
    public void close() {}
}
