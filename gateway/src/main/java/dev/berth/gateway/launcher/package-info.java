/**
 * Where sessions' backends come from: the small {@code Launcher} contract (launch, discover, close)
 * and its engines (Docker, Swarm, child processes, fixed backends), reached through
 * {@code LauncherFactory}; everything else in here is package-private. Blocking engine calls run on
 * the launchers' own worker pools, never on an event loop.
 */
package dev.berth.gateway.launcher;
