package dev.berth.gateway.config;

/**
 * A configuration file that cannot be used. The message names the file, the key, what is wrong
 * and how to fix it, so an operator can act on it without reading code.
 */
public final class ConfigException extends RuntimeException {

    ConfigException(String message) {
        super(message);
    }

    static ConfigException at(String file, String key, String problem, String fix) {
        return new ConfigException(file + ": key '" + key + "': " + problem + ". Fix: " + fix);
    }
}
