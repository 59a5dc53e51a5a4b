package dev.berth.gateway.pipe;

import io.vertx.core.http.ServerWebSocket;

/**
 * A client connection as the edge accepted it: its socket, the answer to its protocol errors put in
 * front of it at the handshake (which outlives the socket's pipeline, so what it saw of the client's
 * close is known however early the client left), and whether it speaks the resume protocol.
 */
public record AcceptedClient(ServerWebSocket socket, ProtocolErrorAnswer errors, boolean resume) {

    /** The opt-in resume protocol's subprotocol (docs/sessions.md); clients that do not ask get plain frames. */
    public static final String RESUME_SUBPROTOCOL = "berth.resume.v1";
}
