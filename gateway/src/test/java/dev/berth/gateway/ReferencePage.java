package dev.berth.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A page of docs/reference/, as the tests that hold it to the code read it: the rows of its tables
 * (header and separator rows left out), by the section they are in, and the code spans of a cell.
 */
public final class ReferencePage {

    private static final Pattern CODE = Pattern.compile("`([^`]+)`");
    private static final Pattern SEPARATOR = Pattern.compile("\\|(\\s*:?-+:?\\s*\\|)+\\s*");

    /** One table row: the heading of the section it is in, its cells (trimmed) and the line itself. */
    public record Row(String heading, List<String> cells, String line) {
        public String cell(int index) {
            return index < cells.size() ? cells.get(index) : "";
        }
    }

    private final String name;
    private final String text;

    private ReferencePage(String name, String text) {
        this.name = name;
        this.text = text;
    }

    /** {@code docs/reference/<page>}. */
    public static ReferencePage read(String page) {
        Path file = TestGateway.ROOT.resolve("docs/reference").resolve(page);
        try {
            return new ReferencePage("docs/reference/" + page, Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    public String name() {
        return name;
    }

    public String text() {
        return text;
    }

    /** Every row of every table, in the page's order. */
    public List<Row> rows() {
        List<String> lines = text.lines().toList();
        List<Row> rows = new ArrayList<>();
        String heading = "";
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("#")) {
                heading = line.replaceFirst("^#+\\s*", "");
            }
            boolean header =
                    i + 1 < lines.size() && SEPARATOR.matcher(lines.get(i + 1)).matches();
            if (line.startsWith("|") && !header && !SEPARATOR.matcher(line).matches()) {
                rows.add(new Row(heading, cells(line), line));
            }
        }
        return rows;
    }

    /** The rows of the tables in sections whose heading starts with {@code heading}. */
    public List<Row> rows(String heading) {
        return rows().stream().filter(row -> row.heading().startsWith(heading)).toList();
    }

    /** The code spans of {@code cell}, without their backticks. */
    public static List<String> code(String cell) {
        List<String> spans = new ArrayList<>();
        Matcher span = CODE.matcher(cell);
        while (span.find()) {
            spans.add(span.group(1));
        }
        return spans;
    }

    /** A row's cells: split at every pipe that is not escaped ({@code \|} stays in its cell, unescaped). */
    private static List<String> cells(String line) {
        String inner = line.strip();
        inner = inner.substring(1, inner.endsWith("|") && inner.length() > 1 ? inner.length() - 1 : inner.length());
        List<String> cells = new ArrayList<>();
        for (String cell : inner.split("(?<!\\\\)\\|", -1)) {
            cells.add(cell.replace("\\|", "|").strip());
        }
        return cells;
    }
}
