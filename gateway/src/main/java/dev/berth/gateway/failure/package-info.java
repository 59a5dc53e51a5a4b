/**
 * One failure vocabulary: each refusal and session end with its tag, HTTP status, close code,
 * public reason and Retry-After, in one table that responses, close frames, logs and metrics all
 * read. A model: it uses no other package.
 */
package dev.berth.gateway.failure;
