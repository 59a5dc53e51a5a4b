package dev.berth.gateway.failure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.gateway.TestGateway;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The failure vocabulary a client is promised is the one the code has: every row of the status and
 * close code tables in docs/sessions.md and docs/security.md is held against {@link Failure}
 * (status, Retry-After, close code), and every failure a client can meet is in them.
 */
class FailureDocsTest {

    private static final Pattern TAG = Pattern.compile("`([a-z0-9_]+)`");

    /** One table row: its first cell, and the tags of its second. */
    private record Row(String first, List<String> tags, String line) {}

    private static List<Row> table(String doc, String heading, String header) throws Exception {
        String text = Files.readString(TestGateway.ROOT.resolve(doc));
        int section = text.indexOf(heading);
        assertTrue(section >= 0, doc + " has a section " + heading);
        int start = text.indexOf(header, section);
        assertTrue(start >= 0, doc + ": the table " + header + " under " + heading);
        List<Row> rows = new ArrayList<>();
        for (String line : text.substring(start).lines().skip(2).toList()) {
            if (!line.startsWith("|")) {
                break;
            }
            String[] cells = line.split("\\|");
            List<String> tags = new ArrayList<>();
            Matcher tag = TAG.matcher(cells[2]);
            while (tag.find()) {
                tags.add(tag.group(1));
            }
            rows.add(new Row(cells[1].trim(), tags, line));
        }
        return rows;
    }

    private static Failure failure(String tag, Row row) {
        try {
            return Failure.valueOf(tag.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new AssertionError("the docs name a failure the code does not have, " + tag + ": " + row.line());
        }
    }

    /** Status, and Retry-After, of every refusal row, against the code; returns the tags seen. */
    private static Set<Failure> checkRefusals(String doc, String heading, String header) throws Exception {
        Set<Failure> seen = EnumSet.noneOf(Failure.class);
        for (Row row : table(doc, heading, header)) {
            int status = Integer.parseInt(row.first().substring(0, 3));
            for (String tag : row.tags()) {
                Failure failure = failure(tag, row);
                assertTrue(failure.refusesUpgrade(), tag + " is not a refusal in the code: " + row.line());
                assertEquals(failure.httpStatus(), status, tag + "'s status: " + row.line());
                assertEquals(
                        failure.temporary(),
                        row.first().contains("Retry-After"),
                        tag + "'s Retry-After: " + row.line());
                assertEquals(
                        failure.challenge() != null,
                        row.first().contains("WWW-Authenticate"),
                        tag + "'s WWW-Authenticate: " + row.line());
                seen.add(failure);
            }
        }
        return seen;
    }

    @Test
    void everyRefusalIsInBothTablesWithItsStatusAndRetryAfter() throws Exception {
        Set<Failure> refusals = EnumSet.noneOf(Failure.class);
        for (Failure failure : Failure.values()) {
            if (failure.refusesUpgrade()) {
                refusals.add(failure);
            }
        }
        assertEquals(
                refusals, checkRefusals("docs/sessions.md", "## What a client can see", "| status | tag | when |"));
        assertEquals(refusals, checkRefusals("docs/security.md", "## Every status and close code", "| status | tag |"));
    }

    @Test
    void everyCloseCodeAClientCanGetIsInTheTableWithItsCode() throws Exception {
        Set<Failure> closing = EnumSet.noneOf(Failure.class);
        for (Failure failure : Failure.values()) {
            if (failure.closeCode() != 0 || failure == Failure.BACKEND_ENDED) {
                closing.add(failure);
            }
        }
        Set<Failure> seen = EnumSet.noneOf(Failure.class);
        for (Row row : table("docs/sessions.md", "## What a client can see", "| code | tag | when | session |")) {
            for (String tag : row.tags()) {
                Failure failure = failure(tag, row);
                int code = row.first().equals("backend's own") ? 0 : Integer.parseInt(row.first());
                assertEquals(failure.closeCode(), code, tag + "'s close code: " + row.line());
                seen.add(failure);
            }
        }
        assertEquals(closing, seen, "every failure with a close code, in the table after the handshake");
    }

    @Test
    void everyFailureIsDocumentedSomewhereAClientOrOperatorLooks() throws Exception {
        String sessions = Files.readString(TestGateway.ROOT.resolve("docs/sessions.md"));
        for (Failure failure : Failure.values()) {
            assertTrue(sessions.contains("`" + failure.tag() + "`"), failure.tag() + " is not in docs/sessions.md");
        }
    }
}
