/**
 * Sessions: each one's state machine (it owns its backend and the gateway's link to it), and the
 * registry that holds them by key on the control loop, with admission, rollout, adoption, reaping
 * and tokens around it.
 */
package dev.berth.gateway.session;
