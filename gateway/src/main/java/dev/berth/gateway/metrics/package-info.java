/**
 * Micrometer and Prometheus behind the meters the other floors declare (each floor says what it
 * counts; this package says how). Every series is registered up front. Only the wiring uses it.
 */
package dev.berth.gateway.metrics;
