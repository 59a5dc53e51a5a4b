package dev.berth.gateway.admin;

import dev.berth.gateway.config.AdminConfig;
import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigException;
import dev.berth.gateway.config.ConfigLoader;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code berth}, the operator's command line over the admin API (docs/operations.md). It reads
 * where the admin API listens and its token from the gateway's config file, so on the gateway's
 * machine no flag is needed:
 *
 * <pre>
 *   berth [--config FILE] sessions | user NAME | end KEY | end-user NAME | admissions | pause | resume | config | reload | routes
 *                         | drain ROUTE VERSION [DEADLINE] | ready
 * </pre>
 *
 * Exit status: 0 done, 1 the gateway answered an error (or is not ready), 2 a usage or config
 * mistake, 3 the gateway cannot be reached.
 */
public final class BerthCommand {

    static final String USAGE = """
      usage: berth [--config FILE] COMMAND
        sessions     every session: key, route, version, state, age, bytes each way, client, user
        user NAME    the sessions of one signed-in user
        end KEY      ends one session (its client gets 4003)
        end-user NAME
                     ends every session of one signed-in user
        admissions   whether new sessions are admitted
        pause        no new session starts; existing ones keep their clients
        resume       new sessions start again
        config       the config file in force and its version
        reload       reads the config file again; the new routes apply, or it says why not (the old stay)
        routes       every route's version, canary (tallies, brake) and the versions still draining
        drain ROUTE VERSION [DEADLINE]
                     that version's sessions are told to reconnect after DEADLINE (default 0s: now)
        ready        exit 0 if the gateway takes new connections (GET /health/ready), else 1
      FILE defaults to config/berth.yaml: the admin API's address and token file are read from it.""";

    private static final long TIMEOUT_SECONDS = 10;

    private final PrintStream out;
    private final PrintStream err;

    BerthCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(new BerthCommand(System.out, System.err).run(args));
    }

    /** Runs one command; the exit status. */
    int run(String[] args) {
        List<String> words = new ArrayList<>(List.of(args));
        Path configFile = Path.of("config", "berth.yaml");
        if (words.size() >= 2 && words.get(0).equals("--config")) {
            configFile = Path.of(words.get(1));
            words = words.subList(2, words.size());
        }
        if (words.isEmpty()
                || words.size() != argumentsOf(words.get(0)) + 1
                        && !(words.get(0).equals("drain") && words.size() == 4)) {
            err.println(USAGE);
            return 2;
        }
        BerthConfig config;
        String token;
        try {
            config = ConfigLoader.load(configFile);
            token = Files.readString(config.admin().tokenFile()).trim();
        } catch (ConfigException e) {
            err.println("berth: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println(
                    "berth: cannot read the admin token " + e.getMessage() + " (admin.tokenFile; the gateway makes it"
                            + " on its first start, readable by its own user only)");
            return 2;
        }
        Vertx vertx = Vertx.vertx();
        WebClient client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5000));
        try {
            return command(client, config, token, words).await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            err.println("berth: cannot reach the gateway: " + e.getMessage());
            return 3;
        } finally {
            client.close();
            vertx.close();
        }
    }

    private Future<Integer> command(WebClient client, BerthConfig config, String token, List<String> words) {
        AdminConfig admin = config.admin();
        return switch (words.get(0)) {
            case "sessions" ->
                call(client, admin, token, HttpMethod.GET, "/sessions").map(this::printSessions);
            case "user" ->
                call(client, admin, token, HttpMethod.GET, "/sessions?user=" + encoded(words.get(1)))
                        .map(this::printSessions);
            case "end-user" ->
                call(client, admin, token, HttpMethod.DELETE, "/sessions?user=" + encoded(words.get(1)))
                        .map(response -> done(
                                response,
                                response.statusCode() == 200
                                        ? "ended " + response.bodyAsJsonObject().getInteger("ended")
                                                + " session(s) of user " + words.get(1)
                                        : null));
            case "end" ->
                call(client, admin, token, HttpMethod.DELETE, "/sessions/" + words.get(1))
                        .map(response -> {
                            if (response.statusCode() == 404) {
                                err.println("berth: no live session with key " + words.get(1));
                                return 1;
                            }
                            return done(response, "ended session " + words.get(1));
                        });
            case "admissions" ->
                call(client, admin, token, HttpMethod.GET, "/admissions").map(this::printAdmissions);
            case "pause" ->
                call(client, admin, token, HttpMethod.POST, "/admissions/pause").map(this::printAdmissions);
            case "resume" ->
                call(client, admin, token, HttpMethod.POST, "/admissions/resume")
                        .map(this::printAdmissions);
            case "config" ->
                call(client, admin, token, HttpMethod.GET, "/config").map(response -> {
                    if (response.statusCode() != 200) {
                        return done(response, null);
                    }
                    JsonObject body = response.bodyAsJsonObject();
                    out.println("# " + body.getString("source") + ", version " + body.getString("version"));
                    out.print(body.getString("text"));
                    return 0;
                });
            case "reload" ->
                call(client, admin, token, HttpMethod.POST, "/config/reload").map(response -> {
                    JsonObject body = response.bodyAsJsonObject();
                    if (response.statusCode() == 422) {
                        err.println("berth: the file was rejected, version " + body.getString("version")
                                + " stays in force: " + body.getString("error"));
                        return 1;
                    }
                    return done(
                            response,
                            response.statusCode() == 200 ? "reloaded: version " + body.getString("version") : null);
                });
            case "routes" ->
                call(client, admin, token, HttpMethod.GET, "/routes").map(this::printRoutes);
            case "drain" ->
                call(
                                client,
                                admin,
                                token,
                                HttpMethod.POST,
                                "/routes/" + words.get(1) + "/versions/" + words.get(2) + "/drain"
                                        + (words.size() == 4 ? "?deadline=" + words.get(3) : ""))
                        .map(response -> {
                            JsonObject body = response.bodyAsJsonObject();
                            if (response.statusCode() != 200 && body != null && body.getString("error") != null) {
                                err.println("berth: " + body.getString("error"));
                                return 1;
                            }
                            return done(
                                    response,
                                    response.statusCode() == 200
                                            ? "draining " + body.getInteger("sessions") + " session(s) of "
                                                    + words.get(1) + " " + words.get(2) + " within "
                                                    + body.getLong("deadlineMs") + "ms"
                                            : null);
                        });
            case "ready" ->
                client.get(config.listen().port(), config.listen().host(), "/health/ready")
                        .send()
                        .map(response -> {
                            out.println(
                                    response.statusCode() == 200
                                            ? "ready"
                                            : "not ready (" + response.statusCode() + ")");
                            return response.statusCode() == 200 ? 0 : 1;
                        });
            default -> {
                err.println("berth: unknown command '" + words.get(0) + "'\n" + USAGE);
                yield Future.succeededFuture(2);
            }
        };
    }

    private static Future<HttpResponse<Buffer>> call(
            WebClient client, AdminConfig admin, String token, HttpMethod method, String path) {
        return client.request(method, admin.port(), admin.host(), path)
                .bearerTokenAuthentication(token)
                .send();
    }

    private int printSessions(HttpResponse<Buffer> response) {
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

    private int printRoutes(HttpResponse<Buffer> response) {
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

    private static String encoded(String word) {
        return URLEncoder.encode(word, StandardCharsets.UTF_8);
    }

    /** How many words follow a command. */
    private static int argumentsOf(String command) {
        return switch (command) {
            case "end", "user", "end-user" -> 1;
            case "drain" -> 2;
            default -> 0;
        };
    }

    private int printAdmissions(HttpResponse<Buffer> response) {
        return done(
                response,
                response.statusCode() == 200
                        ? "admissions " + response.bodyAsJsonObject().getString("admissions")
                        : null);
    }

    /** 0 and {@code message} on a 2xx answer; otherwise the status, and 1. */
    private int done(HttpResponse<Buffer> response, String message) {
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
