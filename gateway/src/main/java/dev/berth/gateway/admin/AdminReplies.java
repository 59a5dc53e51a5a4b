package dev.berth.gateway.admin;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.PrintWriter;
import java.util.Locale;

/** What the {@code berth} command prints of the admin API's answers, and the exit status they make. */
final class AdminReplies {

    private final PrintWriter out;
    private final PrintWriter err;

    AdminReplies(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    int printSessions(HttpResponse<Buffer> response) {
        if (response.statusCode() != 200) {
            return done(response, null);
        }
        var sessions = response.bodyAsJsonObject().getJsonArray("sessions");
        out.println(String.format(
                Locale.ROOT,
                "%-26s %-14s %-10s %-10s %8s %12s %12s %-16s %s",
                "KEY",
                "ROUTE",
                "VERSION",
                "STATE",
                "AGE(s)",
                "FROM CLIENT",
                "TO CLIENT",
                "CLIENT",
                "USER"));
        for (int i = 0; i < sessions.size(); i++) {
            JsonObject s = sessions.getJsonObject(i);
            out.println(String.format(
                    Locale.ROOT,
                    "%-26s %-14s %-10s %-10s %8d %12d %12d %-16s %s",
                    s.getString("key"),
                    s.getString("route"),
                    s.getString("version"),
                    s.getString("state"),
                    s.getLong("ageSeconds"),
                    s.getLong("bytesFromClient"),
                    s.getLong("bytesToClient"),
                    s.getString("client", "-"),
                    s.getString("user", "-")));
        }
        out.println(sessions.size() + " session(s)");
        return 0;
    }

    int printRoutes(HttpResponse<Buffer> response) {
        if (response.statusCode() != 200) {
            return done(response, null);
        }
        JsonObject body = response.bodyAsJsonObject();
        body.getJsonArray("routes").forEach(item -> {
            JsonObject route = (JsonObject) item;
            out.println(route.getString("name") + " " + route.getString("path") + ": version "
                    + route.getString("version") + ", live sessions by version "
                    + route.getJsonObject("sessions").encode());
            JsonObject canary = route.getJsonObject("canary");
            if (canary != null) {
                out.println("  canary " + canary.getString("version") + " at " + canary.getInteger("weightPercent")
                        + "%: "
                        + (canary.getBoolean("braked") ? "BRAKED, " + canary.getString("brakedBecause") : "admitting")
                        + "; started/failed " + canary.getJsonObject("canary").getInteger("started") + "/"
                        + canary.getJsonObject("canary").getInteger("failed") + " against "
                        + canary.getJsonObject("stable").getInteger("started")
                        + "/" + canary.getJsonObject("stable").getInteger("failed"));
            }
        });
        body.getJsonArray("draining").forEach(item -> {
            JsonObject drain = (JsonObject) item;
            out.println("draining " + drain.getString("route") + " " + drain.getString("version") + ": "
                    + drain.getInteger("sessions") + " session(s), "
                    + (drain.getString("deadline") == null
                            ? "until they end"
                            : "retired at " + drain.getString("deadline")));
        });
        return 0;
    }

    int printAdmissions(HttpResponse<Buffer> response) {
        return done(
                response,
                response.statusCode() == 200
                        ? "admissions " + response.bodyAsJsonObject().getString("admissions")
                        : null);
    }

    /** 0 and {@code message} on a 2xx answer; otherwise the status, and 1. */
    int done(HttpResponse<Buffer> response, String message) {
        if (response.statusCode() / 100 == 2) {
            if (message != null) {
                out.println(message);
            }
            return 0;
        }
        err.println("berth: the gateway answered " + response.statusCode()
                + (response.statusCode() == 401 ? " (the token in admin.tokenFile is not the gateway's)" : ""));
        return 1;
    }
}
