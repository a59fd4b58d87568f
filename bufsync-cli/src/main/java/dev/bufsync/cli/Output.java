package dev.bufsync.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * What a command prints: a live progress line when standard output is a terminal, plain lines,
 * aligned tables, and with {@code --json} a summary object as the last line of standard output.
 */
public final class Output {
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private final PrintStream out;
    private final boolean terminal;
    private boolean progressShown;

    /**
     * An output on a stream.
     *
     * @param out where to print
     * @param terminal whether {@code out} is an interactive terminal (enables the progress line)
     */
    public Output(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /**
     * An output on standard output, with a progress line if it is a terminal.
     *
     * @return the output
     */
    public static Output stdout() {
        var console = System.console();
        return new Output(System.out, console != null && console.isTerminal());
    }

    /**
     * Replaces the progress line (only on a terminal).
     *
     * @param text the new progress text
     */
    public synchronized void progress(String text) {
        if (terminal) {
            out.print("\r\033[K" + text);
            out.flush();
            progressShown = true;
        }
    }

    /**
     * Prints a line, clearing the progress line first.
     *
     * @param line the line
     */
    public synchronized void line(String line) {
        clearProgress();
        out.println(line);
    }

    /**
     * Prints an aligned table.
     *
     * @param header the column titles
     * @param rows the rows, each as long as the header
     */
    public synchronized void table(List<String> header, List<List<String>> rows) {
        clearProgress();
        int[] width = new int[header.size()];
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (List<String> row : all) {
            for (int i = 0; i < row.size(); i++) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        for (int r = 0; r < all.size(); r++) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < width.length; i++) {
                String cell = all.get(r).get(i);
                sb.append(i == 0 ? String.format("%-" + width[i] + "s", cell)
                        : "  " + String.format("%" + width[i] + "s", cell));
            }
            out.println(sb.toString().stripTrailing());
            if (r == 0) {
                out.println("-".repeat(sb.toString().stripTrailing().length()));
            }
        }
    }

    /**
     * Prints the JSON summary as one line; call it last.
     *
     * @param summary an object Jackson can serialise (a map or a record)
     */
    public synchronized void json(Object summary) {
        clearProgress();
        out.println(toJson(summary));
        out.flush();
    }

    /**
     * Serialises an object to one line of JSON.
     *
     * @param value a map, list or record
     * @return the JSON text
     */
    public static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value, e);
        }
    }

    private void clearProgress() {
        if (progressShown) {
            out.print("\r\033[K");
            progressShown = false;
        }
    }
}
