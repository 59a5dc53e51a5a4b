package dev.berth.gateway.session;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * The secret session tokens are signed with: read from {@code sessions.tokenSecretFile}, or made
 * there (256 random bits, readable by the gateway's user only) on first start. Gateways that share
 * sessions share this file; replacing it invalidates every token. Also the admin API's token
 * ({@code admin.tokenFile}).
 *
 * <p>A new secret is written whole into a temporary file beside it, then published with a hard
 * link, which fails if the file exists: the file never exists half-written, and of gateways
 * starting at once exactly one publishes while the others read what it published.
 */
public final class TokenSecret {

    private static final int BYTES = 32;
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private TokenSecret() {}

    /** Blocking file IO: call it off the event loop. */
    public static byte[] loadOrCreate(Path file) throws IOException {
        if (!Files.exists(file)) {
            create(file);
        }
        return read(file);
    }

    /** Publishes a new secret at {@code file} unless another gateway did first. */
    private static void create(Path file) throws IOException {
        byte[] secret = new byte[BYTES];
        new SecureRandom().nextBytes(secret);
        Path folder = file.toAbsolutePath().getParent();
        Files.createDirectories(folder);
        Path temp = Files.createTempFile(folder, "." + file.getFileName() + ".", ".tmp", OWNER_ONLY);
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                String line = Base64.getEncoder().encodeToString(secret) + "\n";
                out.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
                out.force(true); // on disk before it has its name: a crash leaves no empty secret
            }
            Files.createLink(file, temp);
        } catch (FileAlreadyExistsException anotherGatewayWasFirst) {
            // read what it published
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static byte[] read(Path file) throws IOException {
        String text = new String(Files.readAllBytes(file), StandardCharsets.US_ASCII).trim();
        byte[] secret;
        try {
            secret = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException notBase64) {
            secret = null;
        }
        if (secret == null || secret.length < BYTES) {
            String problem = text.isEmpty()
                    ? "is empty"
                    : secret == null ? "is not base64" : "holds " + secret.length + " bytes";
            throw new IOException(
                    file + ": " + problem + "; a token secret is at least " + BYTES + " random bytes in base64"
                            + " (an older gateway that crashed while making it could leave it so). Fix: delete it and the gateway makes"
                            + " a new one (every session token made with the old one then becomes invalid)");
        }
        return secret;
    }
}
