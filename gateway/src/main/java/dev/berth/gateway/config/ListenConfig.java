package dev.berth.gateway.config;

/**
 * Where the edge listens.
 *
 * @param maxFrameBytes the largest websocket frame accepted from a client or a backend; it also
 *     bounds the memory one in-flight frame can take
 */
public record ListenConfig(String host, int port, int maxFrameBytes) {}
