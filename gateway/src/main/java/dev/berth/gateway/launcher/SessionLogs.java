package dev.berth.gateway.launcher;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Frame;
import dev.berth.gateway.config.LogConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Keeps the end of a session container's own output ({@code log.sessionLogs}) when its session
 * ends, before the container is removed: {@code DIR/<container name>.log}, at most
 * {@code maxSize} bytes of it, the last ones. Without {@code log.sessionLogs}, nothing is kept.
 */
final class SessionLogs {

    private static final Logger LOG = Logger.getLogger(SessionLogs.class.getName());
    private static final long READ_WAIT_SECONDS = 10;

    private final Path dir;
    private final long maxBytes;

    SessionLogs(LogConfig log) {
        this.dir = log.sessionLogs();
        this.maxBytes = log.sessionLogBytes();
    }

    /** Blocking, on the stop pool: the container's output to its file, if logs are kept; never fails. */
    void keep(DockerClient docker, String containerId) {
        if (dir == null) {
            return;
        }
        try {
            String name =
                    docker.inspectContainerCmd(containerId).exec().getName().replaceFirst("^/", "");
            Tail tail = new Tail(maxBytes);
            docker.logContainerCmd(containerId)
                    .withStdOut(true)
                    .withStdErr(true)
                    .exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            tail.add(frame.getPayload());
                        }
                    })
                    .awaitCompletion(READ_WAIT_SECONDS, TimeUnit.SECONDS);
            Files.createDirectories(dir);
            Path written = Files.write(dir.resolve(name + ".log.part"), tail.bytes());
            Files.move(written, dir.resolve(name + ".log"), StandardCopyOption.REPLACE_EXISTING);
        } catch (NotFoundException gone) {
            // removed by someone else first: nothing left to keep
        } catch (IOException | RuntimeException e) {
            LOG.warning(
                    "could not keep the log of container " + containerId + " in " + dir + " (log.sessionLogs): " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The last {@code max} bytes of what was added. */
    private static final class Tail {
        private final long max;
        private final Deque<byte[]> chunks = new ArrayDeque<>();
        private long size;

        Tail(long max) {
            this.max = max;
        }

        void add(byte[] chunk) {
            chunks.addLast(chunk);
            size += chunk.length;
            while (size - chunks.peekFirst().length >= max) {
                size -= chunks.removeFirst().length;
            }
        }

        byte[] bytes() {
            byte[] all = new byte[(int) Math.min(size, max)];
            int skip = (int) Math.max(0, size - max);
            int at = 0;
            for (byte[] chunk : chunks) {
                int from = Math.min(skip, chunk.length);
                skip -= from;
                System.arraycopy(chunk, from, all, at, chunk.length - from);
                at += chunk.length - from;
            }
            return all;
        }
    }
}
