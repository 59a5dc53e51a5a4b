package dev.berth.gateway.session;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The secret session tokens are signed with: read from {@code sessions.tokenSecretFile}, or made
 * there (256 random bits, readable by the gateway's user only) on first start. Gateways that share
 * sessions share this file; replacing it invalidates every token.
 */
public final class TokenSecret {

  private static final int BYTES = 32;

  private TokenSecret() {}

  /** Blocking file IO: call it off the event loop. */
  public static byte[] loadOrCreate(Path file) throws IOException {
    if (!Files.exists(file)) {
      byte[] secret = new byte[BYTES];
      new SecureRandom().nextBytes(secret);
      try {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, Base64.getEncoder().encodeToString(secret) + "\n", StandardCharsets.US_ASCII);
        return secret;
      } catch (FileAlreadyExistsException anotherGatewayWasFirst) {
        // read what it wrote
      }
    }
    byte[] secret = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).trim());
    if (secret.length < BYTES) {
      throw new IOException(file + " holds " + secret.length + " bytes; a token secret needs at least " + BYTES
          + " (base64). Fix: delete it and the gateway makes a new one (every session token then becomes invalid)");
    }
    return secret;
  }
}
