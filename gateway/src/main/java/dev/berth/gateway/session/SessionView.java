package dev.berth.gateway.session;

import java.util.Collection;

/**
 * The registry's sessions as the rooms around it read them (admission, rollout, adoption, the
 * pools): they look, and ask the registry for every change. On the control loop only.
 */
interface SessionView {

    /** The session with public key {@code key}, in any state; null when there is none. */
    Session get(String key);

    /** Every session, in any state; unmodifiable, and read through, so copy it to end sessions while walking it. */
    Collection<Session> all();

    /** Sessions in the map, in any state. */
    int size();

    /** This gateway's sessions on the route called {@code route}, in any state. */
    int onRoute(String route);
}
