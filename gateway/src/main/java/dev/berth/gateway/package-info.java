/**
 * The wiring: {@code Main} reads the command line and starts {@code GatewayVerticle}, which builds
 * every room below from the config, owns start, drain and stop, and holds no logic of its own. Its
 * event loop is the control loop. Floors, top to bottom: wiring, metrics, the front (edge, admin),
 * sessions, pool, pipe, launchers, models (config, failure, loops); a floor uses only the floors
 * below it ({@code ArchitectureTest}). The three walks (a frame, a new session, a reconnect) are
 * drawn in docs/architecture.md.
 */
package dev.berth.gateway;
