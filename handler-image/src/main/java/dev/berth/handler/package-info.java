/**
 * The session handler Berth ships, and the example users copy: the wire protocol (an HTTP/1.1 and
 * RFC 6455 server on plain JDK sockets, one thread per connection) apart from the app
 * ({@code SessionApp}, where your own app goes) and from the gateway's test hooks. The handler's
 * side of the contract with the gateway is in handler-image/README.md.
 */
package dev.berth.handler;
