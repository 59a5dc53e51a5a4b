/**
 * The event loops: the control loop (sessions, registry, pools, launchers) and the data loops
 * (frames), and the hops between them. A model: it uses no other package.
 */
package dev.berth.gateway.loops;
