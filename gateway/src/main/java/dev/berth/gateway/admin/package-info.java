/**
 * The operator's side: the admin API (its own listener, behind a bearer token) and the {@code berth}
 * command line over it. It lists, ends and pauses sessions only through the registry.
 */
package dev.berth.gateway.admin;
