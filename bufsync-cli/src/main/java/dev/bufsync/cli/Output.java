package dev.bufsync.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a command prints: human text (plain lines, aligned tables, a live progress line on a
 * terminal, one line per step with the time left elsewhere) and, with {@code --json}, the summary
 * object. With {@code --json} standard output holds the summary alone and the human text goes to
 * standard error, so that {@code bufsync demo --json | jq .} works; {@link Main} sets the mode from
 * the command line before the command runs, so commands need not pass it around.
 */
public final class Output {
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    /** Whether the running command was given {@code --json}; written by {@link Main} before it runs. */
    private static volatile boolean jsonMode;

    private final PrintStream out;
    private final PrintStream json;
    private final boolean terminal;
    private boolean progressShown;

    /**
     * An output whose human text and summary both go to one stream.
     *
     * @param out where to print
     * @param terminal whether {@code out} is an interactive terminal (enables the progress line)
     */
    public Output(PrintStream out, boolean terminal) {
        this(out, out, terminal);
    }

    private Output(PrintStream out, PrintStream json, boolean terminal) {
        this.out = out;
        this.json = json;
        this.terminal = terminal;
    }

    /**
     * The output of the running command: human text on standard output, or on standard error when
     * the command was given {@code --json}; the summary on standard output; a live progress line
     * when standard output is a terminal.
     *
     * @return the output
     */
    public static Output stdout() {
        var console = System.console();
        boolean terminal = console != null && console.isTerminal();
        return jsonMode ? new Output(System.err, System.out, terminal) : new Output(System.out, System.out, terminal);
    }

    /**
     * Sets whether the command about to run was given {@code --json}.
     *
     * @param json whether standard output is reserved for the JSON summary
     */
    static void jsonMode(boolean json) {
        jsonMode = json;
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
     * Announces step {@code index} of {@code total} (a scenario, a mode, a benchmark). Where no
     * live progress line can be shown (standard output is not a terminal) it prints one line with
     * the estimated time left, so that a log shows the run advance; on a terminal it shows it as the
     * progress line.
     *
     * @param index the step's number, from 1
     * @param total the number of steps
     * @param label what the step runs
     * @param left the estimated time left, this step included, or {@code null} if unknown
     */
    public synchronized void step(int index, int total, String label, Duration left) {
        String text = String.format(Locale.ROOT, "[%d/%d] %s%s", index, total, label,
                left == null ? "" : ", about " + humanDuration(left) + " left");
        if (terminal) {
            progress(text);
        } else {
            out.println(text);
            out.flush();
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
     * Prints the JSON summary as one line on standard output; call it last.
     *
     * @param summary an object Jackson can serialise (a map or a record)
     */
    public synchronized void json(Object summary) {
        clearProgress();
        out.flush();
        json.println(toJson(summary));
        json.flush();
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

    /** "45 s", "3 min 20 s". */
    static String humanDuration(Duration d) {
        long s = Math.max(0, Math.round(d.toMillis() / 1000.0));
        return s < 60 ? s + " s" : s % 60 == 0 ? s / 60 + " min" : s / 60 + " min " + s % 60 + " s";
    }

    private void clearProgress() {
        if (progressShown) {
            out.print("\r\033[K");
            progressShown = false;
        }
    }
}
