package dev.berth.gateway.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Gateways starting together agree on one secret, and a broken secret file is named with its fix. */
class TokenSecretTest {

    private static final int THREADS = 16;
    /** Rounds of simultaneous starts, each on a new file: one round may miss a race window. */
    private static final int ROUNDS = 100;

    @TempDir
    Path dir;

    @Test
    void gatewaysStartingTogetherAllGetTheOneSecretAndNeverSeeTheFileEmpty() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                Path folder = dir.resolve("round-" + round); // not there yet: made on first start too
                Path file = folder.resolve("berth-token.key");
                CountDownLatch go = new CountDownLatch(1);
                AtomicBoolean starting = new AtomicBoolean(true);
                AtomicReference<String> seenShort = new AtomicReference<>();
                Future<?> watcher = pool.submit(() -> {
                    go.await();
                    while (starting.get()) {
                        try {
                            byte[] content = Files.readAllBytes(file);
                            if (content.length < 44) { // 32 bytes in base64
                                seenShort.compareAndSet(null, content.length + " bytes");
                            }
                        } catch (NoSuchFileException notYet) {
                            // not published yet: fine
                        }
                    }
                    return null;
                });
                List<Future<byte[]>> starts = new ArrayList<>();
                for (int i = 0; i < THREADS; i++) {
                    starts.add(pool.submit(() -> {
                        go.await();
                        return TokenSecret.loadOrCreate(file);
                    }));
                }
                go.countDown();
                byte[] first;
                try {
                    first = starts.get(0).get(10, TimeUnit.SECONDS);
                    for (Future<byte[]> start : starts) {
                        assertArrayEquals(
                                first,
                                start.get(10, TimeUnit.SECONDS),
                                "round " + round + ": every start gets the same secret");
                    }
                } finally {
                    starting.set(false);
                }
                watcher.get(10, TimeUnit.SECONDS);
                assertEquals(null, seenShort.get(), "round " + round + ": the file was seen holding too little");
                assertEquals(32, first.length);
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
                assertArrayEquals(first, TokenSecret.loadOrCreate(file), "a later start reads it");
                try (Stream<Path> left = Files.list(folder)) {
                    assertEquals(List.of(file), left.toList(), "round " + round + ": no temporary file is left behind");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFileLeftEmptyOrBrokenNamesItselfAndTheFix() throws Exception {
        for (String content : List.of("", "\n", "c2hvcnQ=\n", "not base64!\n")) {
            Path file = dir.resolve("berth-token.key");
            Files.writeString(file, content);
            IOException error = assertThrows(IOException.class, () -> TokenSecret.loadOrCreate(file), content);
            String message = error.getMessage();
            assertTrue(message.startsWith(file.toString()), message);
            assertTrue(message.contains("Fix: delete it"), message);
            assertTrue(message.contains("every session token"), message);
            assertEquals(content, Files.readString(file), "left as it was: the operator decides");
        }
    }

    @Test
    void anExistingSecretIsReadNotReplaced() throws Exception {
        Path file = dir.resolve("berth-admin.key");
        byte[] made = TokenSecret.loadOrCreate(file);
        String text = Files.readString(file);
        assertArrayEquals(made, TokenSecret.loadOrCreate(file));
        assertEquals(text, Files.readString(file));
        assertFalse(text.isBlank());
    }
}
