package dev.berth.gateway.launcher;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Keeps session containers off the host. A bridge network, internal or not, gives the host an
 * address on it (the network's gateway), and the engine filters only traffic between networks:
 * whatever listens on the host's other addresses or on all of them (a database, sshd, an engine TCP
 * port, a gateway bound to 0.0.0.0) answers a container that connects to that address. So the
 * host drops new connections that arrive from a sessions bridge; replies to the connections the
 * gateway makes to its containers pass. The rules sit in a chain of Berth's own, {@value #CHAIN},
 * jumped to first from INPUT, and are added once per bridge (idempotent, shared by every gateway
 * of the host).
 *
 * <p>It needs {@code iptables} and the right to change the host's firewall (root, or
 * CAP_NET_ADMIN in the host's network namespace). Without them the gateway says so at start, with
 * the commands to run, and goes on: the sessions still cannot reach each other or leave the machine.
 */
final class HostIsolation {

    private static final Logger LOG = Logger.getLogger(HostIsolation.class.getName());
    static final String CHAIN = "BERTH-ISOLATION";
    private static final long COMMAND_SECONDS = 10;

    private HostIsolation() {}

    /** The name of the host's interface for a Docker bridge network: its own option, else {@code br-<id>}. */
    static String bridgeInterface(String networkId, java.util.Map<String, String> options) {
        String named = options == null ? null : options.get("com.docker.network.bridge.name");
        return named != null && !named.isEmpty() ? named : "br-" + networkId.substring(0, 12);
    }

    /** Blocking: makes sure the host drops new connections from {@code bridges}; logs what it could not do. */
    static void ensure(List<String> bridges) {
        List<List<String>> rules = new ArrayList<>();
        for (String bridge : bridges) {
            rules.add(List.of("-i", bridge, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "RETURN"));
            rules.add(List.of("-i", bridge, "-j", "DROP"));
        }
        try {
            run(List.of("-N", CHAIN)); // already there is fine
            if (!run(List.of("-C", "INPUT", "-j", CHAIN))) {
                require(List.of("-I", "INPUT", "1", "-j", CHAIN));
            }
            for (List<String> rule : rules) {
                List<String> check = new ArrayList<>(List.of("-C", CHAIN));
                check.addAll(rule);
                if (!run(check)) {
                    // Replies first (inserted at the top), drops after them (appended).
                    List<String> add =
                            new ArrayList<>(rule.contains("RETURN") ? List.of("-I", CHAIN, "1") : List.of("-A", CHAIN));
                    add.addAll(rule);
                    require(add);
                }
            }
            LOG.fine(() -> "the host drops new connections from the sessions bridges " + bridges);
        } catch (IOException | IllegalStateException e) {
            LOG.warning("cannot keep session containers off the host (" + e.getMessage()
                    + "): whatever listens on the host's"
                    + " address on the sessions networks, or on all its addresses, is reachable from every session. Fix: run the"
                    + " gateway with the right to change the firewall (root or CAP_NET_ADMIN), or once as root: iptables -N "
                    + CHAIN
                    + "; iptables -I INPUT 1 -j " + CHAIN + "; then for each bridge B of " + bridges + ": iptables -I "
                    + CHAIN
                    + " 1 -i B -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN; iptables -A " + CHAIN
                    + " -i B -j DROP");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void require(List<String> arguments) throws IOException, InterruptedException {
        if (!run(arguments)) {
            throw new IllegalStateException("iptables " + String.join(" ", arguments) + " failed");
        }
    }

    /** Runs iptables (waiting for its lock); whether it succeeded. */
    private static boolean run(List<String> arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("iptables", "-w"));
        command.addAll(arguments);
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!process.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("iptables took over " + COMMAND_SECONDS + "s");
        }
        return process.exitValue() == 0;
    }
}
