/**
 * The front door: the HTTP server on the data loops, the page and {@code /berth.js}, health, each
 * route's websocket endpoint (Origin, admission, the upgrade, upstream first) and the connection
 * guard. Any failure before the handshake becomes its HTTP status here, from the failure table.
 */
package dev.berth.gateway.edge;
