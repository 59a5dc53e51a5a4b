package dev.berth.gateway;

import dev.berth.gateway.config.LogConfig;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The process's logging as {@code log} in the config says: Berth's own records from {@code
 * log.level} up, the libraries' from info up whatever it says (at debug, Netty and docker-java
 * would drown Berth's own lines), in plain lines or one JSON object per line.
 */
final class Logs {

    /** Held: a logger nobody references may be collected, and its level with it. */
    private static final Logger BERTH = Logger.getLogger("dev.berth");

    private Logs() {}

    static void apply(LogConfig log) {
        Logger root = Logger.getLogger("");
        root.setLevel(log.level().intValue() > Level.INFO.intValue() ? log.level() : Level.INFO);
        BERTH.setLevel(log.level());
        for (Handler handler : root.getHandlers()) {
            handler.setLevel(log.level());
            if (log.format() == LogConfig.Format.JSON) {
                handler.setFormatter(new JsonLines());
            }
        }
    }

    /** {@code {"time":"2026-12-07T22:00:00.123Z","level":"INFO","logger":"…","message":"…"}}, and {@code "error"} with a stack trace. */
    static final class JsonLines extends Formatter {
        @Override
        public String format(LogRecord record) {
            JsonObject line = new JsonObject()
                    .put("time", Instant.ofEpochMilli(record.getMillis()).toString())
                    .put("level", record.getLevel().getName())
                    .put("logger", record.getLoggerName())
                    .put("message", formatMessage(record));
            if (record.getThrown() != null) {
                StringWriter trace = new StringWriter();
                record.getThrown().printStackTrace(new PrintWriter(trace));
                line.put("error", trace.toString());
            }
            return line.encode() + System.lineSeparator();
        }
    }
}
