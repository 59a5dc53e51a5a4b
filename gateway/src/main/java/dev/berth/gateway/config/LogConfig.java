package dev.berth.gateway.config;

import java.nio.file.Path;
import java.util.logging.Level;

/**
 * What the gateway logs and how (docs/operations.md, "Logs").
 *
 * @param level the least severe record written: {@code error}, {@code warning}, {@code info} or
 *     {@code debug}
 * @param format {@link Format#PLAIN} lines for people, or {@link Format#JSON} objects for a log pipeline
 * @param sessionLogs where a session container's own output is kept when its session ends, or null
 *     to let it go with the container
 * @param sessionLogBytes at most this much of the end of each such log is kept
 */
public record LogConfig(Level level, Format format, Path sessionLogs, long sessionLogBytes) {

    public enum Format {
        /** {@code 12:00:00.000 INFO    dev.berth...Session: session … -> ATTACHED (…)} */
        PLAIN,
        /** One JSON object per line: time, level, logger, message, and the exception when there is one. */
        JSON
    }
}
