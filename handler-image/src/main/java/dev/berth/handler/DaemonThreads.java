package dev.berth.handler;

import java.util.concurrent.ThreadFactory;

/** Names the server's scheduler and probe threads and makes them daemons: they must not keep the process alive. */
final class DaemonThreads implements ThreadFactory {

    private final String name;

    DaemonThreads(String name) {
        this.name = name;
    }

    @Override
    public Thread newThread(Runnable task) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }
}
