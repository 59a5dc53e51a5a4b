package dev.berth.gateway.admin;

import dev.berth.gateway.config.BerthConfig;
import dev.berth.gateway.config.ConfigException;
import dev.berth.gateway.config.ConfigLoader;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code ./berth}: the operator's command line over a gateway's admin API (docs/operations.md).
 * {@code --help}, {@code --version} and {@code check} need no gateway and no token; {@code ready}
 * needs no token; the others read the admin API's address and token from the config file. Exit
 * status: 0 done, 1 the gateway answered an error (or is not ready, or the file is not valid), 2 a
 * usage or config mistake, 3 the gateway cannot be reached.
 */
@Command(
        name = "berth",
        mixinStandardHelpOptions = true,
        scope = ScopeType.INHERIT, // --help and --version on every command too
        versionProvider = BerthCommand.Version.class,
        description = "The operator's command line over a Berth gateway's admin API (docs/operations.md).",
        subcommands = CommandLine.HelpCommand.class,
        footer = {
            "",
            "Exit status: 0 done, 1 the gateway answered an error (or is not ready, or the file is not valid),",
            "2 a usage or config mistake, 3 the gateway cannot be reached."
        })
public final class BerthCommand implements Callable<Integer> {

    @Option(
            names = "--config",
            paramLabel = "FILE",
            scope = ScopeType.INHERIT,
            description = "the gateway's config file: where its admin API listens, and its token files"
                    + " (default: ${DEFAULT-VALUE})")
    Path configFile = Path.of("config", "berth.yaml");

    @Spec
    CommandSpec spec;

    private final PrintWriter out;
    private final PrintWriter err;
    private final AdminReplies replies;

    BerthCommand(PrintStream out, PrintStream err) {
        this.out = new PrintWriter(out, true, StandardCharsets.UTF_8);
        this.err = new PrintWriter(err, true, StandardCharsets.UTF_8);
        this.replies = new AdminReplies(this.out, this.err);
    }

    public static void main(String[] args) {
        System.exit(new BerthCommand(System.out, System.err).run(args));
    }

    /** Runs one command; the exit status. */
    int run(String... args) {
        return new CommandLine(this)
                .setOut(out)
                .setErr(err)
                .setExecutionExceptionHandler((error, line, parsed) -> {
                    err.println("berth: " + error.getMessage());
                    return 2;
                })
                .execute(args);
    }

    /** No command: the usage, as a mistake. */
    @Override
    public Integer call() {
        spec.commandLine().usage(err);
        return 2;
    }

    /** The version this jar was built as (its manifest), and the Java it runs on. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = BerthCommand.class.getPackage().getImplementationVersion();
            return new String[] {
                "berth " + (version == null ? "(not built as a jar)" : version),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
            };
        }
    }

    @Command(description = "Check a config file as the gateway would load it, without starting one.")
    int check(
            @Parameters(paramLabel = "FILE", arity = "0..1", description = "the file (default: --config)") Path file) {
        Path checked = file != null ? file : configFile;
        try {
            BerthConfig config = ConfigLoader.load(checked);
            out.println(checked + ": valid, version " + config.version() + ", "
                    + config.routes().size() + " route(s), launcher "
                    + config.launcher().name().toLowerCase(java.util.Locale.ROOT));
            return 0;
        } catch (ConfigException invalid) {
            err.println("berth: " + invalid.getMessage());
            return 1;
        }
    }

    @Command(description = "Every session: key, route, version, state, age, bytes each way, client, user.")
    int sessions() {
        return admin(api -> api.call(HttpMethod.GET, "/sessions").map(replies::printSessions));
    }

    @Command(description = "The sessions of one signed-in user.")
    int user(@Parameters(paramLabel = "NAME") String name) {
        return admin(api ->
                api.call(HttpMethod.GET, "/sessions?user=" + encoded(name)).map(replies::printSessions));
    }

    @Command(description = "End one session (its client gets 4003).")
    int end(@Parameters(paramLabel = "KEY") String key) {
        return admin(api -> api.call(HttpMethod.DELETE, "/sessions/" + encoded(key))
                .map(response -> {
                    if (response.statusCode() == 404) {
                        err.println("berth: no live session with key " + key);
                        return 1;
                    }
                    return replies.done(response, "ended session " + key);
                }));
    }

    @Command(name = "end-user", description = "End every session of one signed-in user.")
    int endUser(@Parameters(paramLabel = "NAME") String name) {
        return admin(api -> api.call(HttpMethod.DELETE, "/sessions?user=" + encoded(name))
                .map(response -> replies.done(
                        response,
                        response.statusCode() == 200
                                ? "ended " + response.bodyAsJsonObject().getInteger("ended") + " session(s) of user "
                                        + name
                                : null)));
    }

    @Command(description = "Whether new sessions are admitted.")
    int admissions() {
        return admin(api -> api.call(HttpMethod.GET, "/admissions").map(replies::printAdmissions));
    }

    @Command(description = "Admit no new session; existing ones keep their clients.")
    int pause() {
        return admin(api -> api.call(HttpMethod.POST, "/admissions/pause").map(replies::printAdmissions));
    }

    @Command(description = "Admit new sessions again.")
    int resume() {
        return admin(api -> api.call(HttpMethod.POST, "/admissions/resume").map(replies::printAdmissions));
    }

    @Command(description = "The config file in force and its version.")
    int config() {
        return admin(api -> api.call(HttpMethod.GET, "/config").map(response -> {
            if (response.statusCode() != 200) {
                return replies.done(response, null);
            }
            JsonObject body = response.bodyAsJsonObject();
            out.println("# " + body.getString("source") + ", version " + body.getString("version"));
            out.print(body.getString("text"));
            out.flush();
            return 0;
        }));
    }

    @Command(description = "Read the config file again: the new routes apply, or it says why not (the old stay).")
    int reload() {
        return admin(api -> api.call(HttpMethod.POST, "/config/reload").map(response -> {
            JsonObject body = response.bodyAsJsonObject();
            if (response.statusCode() == 422) {
                err.println("berth: the file was rejected, version " + body.getString("version") + " stays in force: "
                        + body.getString("error"));
                return 1;
            }
            return replies.done(
                    response, response.statusCode() == 200 ? "reloaded: version " + body.getString("version") : null);
        }));
    }

    @Command(description = "Every route's version, canary (tallies, brake) and the versions still draining.")
    int routes() {
        return admin(api -> api.call(HttpMethod.GET, "/routes").map(replies::printRoutes));
    }

    @Command(description = "Tell a version's sessions to reconnect after DEADLINE (default 0s: now).")
    int drain(
            @Parameters(index = "0", paramLabel = "ROUTE") String route,
            @Parameters(index = "1", paramLabel = "VERSION") String version,
            @Parameters(index = "2", paramLabel = "DEADLINE", arity = "0..1") String deadline) {
        String path = "/routes/" + encoded(route) + "/versions/" + encoded(version) + "/drain"
                + (deadline == null ? "" : "?deadline=" + encoded(deadline));
        return admin(api -> api.call(HttpMethod.POST, path).map(response -> {
            JsonObject body = response.bodyAsJsonObject();
            if (response.statusCode() != 200 && body != null && body.getString("error") != null) {
                err.println("berth: " + body.getString("error"));
                return 1;
            }
            return replies.done(
                    response,
                    response.statusCode() == 200
                            ? "draining " + body.getInteger("sessions") + " session(s) of " + route + " " + version
                                    + " within " + body.getLong("deadlineMs") + "ms"
                            : null);
        }));
    }

    @Command(
            description = "Exit 0 if the gateway takes new connections (GET /health/ready, over TLS with listen.tls),"
                    + " else 1. Needs no token.")
    int ready() {
        return withConfig(config -> AdminConnection.toEdge(config)
                .run(
                        edge -> edge.call(HttpMethod.GET, "/health/ready").map(response -> {
                            out.println(
                                    response.statusCode() == 200
                                            ? "ready"
                                            : "not ready (" + response.statusCode() + ")");
                            return response.statusCode() == 200 ? 0 : 1;
                        }),
                        err));
    }

    private int admin(Function<AdminConnection, Future<Integer>> call) {
        return withConfig(config -> {
            AdminConnection api;
            try {
                api = AdminConnection.toAdmin(config);
            } catch (IllegalStateException noToken) {
                err.println("berth: " + noToken.getMessage());
                return 2;
            }
            return api.run(call, err);
        });
    }

    private int withConfig(Function<BerthConfig, Integer> command) {
        BerthConfig config;
        try {
            config = ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            err.println("berth: " + e.getMessage());
            return 2;
        }
        return command.apply(config);
    }

    private static String encoded(String word) {
        return URLEncoder.encode(word, StandardCharsets.UTF_8);
    }
}
