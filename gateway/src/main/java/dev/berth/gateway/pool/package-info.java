/**
 * Warm pools: per route, backends started and dialled ahead of time, claimed by new sessions and
 * refilled one at a time within admission.
 */
package dev.berth.gateway.pool;
