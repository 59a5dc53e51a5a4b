/**
 * The frame pipe: a session's two halves of forwarding between its client and its backend, with
 * flow control both ways, the RFC 6455 checks owed on what is forwarded, the resume numbering and
 * replay, and the hand-over of a client from one data loop to another.
 */
package dev.berth.gateway.pipe;
