/**
 * The config as immutable, validated records, read from {@code berth.yaml}: every error names the
 * file, the key and the fix. The reloader reads the file again while the gateway runs and hands a
 * new config over whole, or keeps the old one. A model: it uses no other package of the gateway but
 * the loops.
 */
package dev.berth.gateway.config;
