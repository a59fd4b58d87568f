package dev.bufsync.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The checks every command runs on its options before it starts working, so that a bad value is a
 * usage error (status 2) naming the option, within a second, never a failure after minutes of
 * work: numbers in their documented range (never NaN or infinite), output files and directories
 * that can be written.
 */
public final class Checks {
    private Checks() {
    }

    /**
     * A duration in seconds: finite, above zero, at most {@code max}.
     *
     * @param spec the command, for the error
     * @param option the option's name, such as {@code --seconds}
     * @param value the value given
     * @param max the largest value accepted
     * @return {@code value}
     * @throws CommandLine.ParameterException naming the option and the range
     */
    public static double seconds(CommandSpec spec, String option, double value, double max) {
        if (!(value > 0 && value <= max)) {      // also false for NaN
            throw usage(spec, String.format(Locale.ROOT, "%s must be a number of seconds above 0 and at most %s, not %s",
                    option, plain(max), plain(value)));
        }
        return value;
    }

    /**
     * An optional number of seconds from {@code min} to {@code max}, both included, never NaN.
     *
     * @param spec the command, for the error
     * @param option the option's name, such as {@code --kill-driver-after}
     * @param value the value given, or {@code null} if the option was not given
     * @param min the smallest value accepted
     * @param max the largest value accepted
     * @return {@code value}
     * @throws CommandLine.ParameterException naming the option and the range
     */
    public static Double range(CommandSpec spec, String option, Double value, double min, double max) {
        if (value != null && !(value >= min && value <= max)) {      // also true for NaN
            throw usage(spec, String.format(Locale.ROOT, "%s must be a number of seconds from %s to %s, not %s",
                    option, plain(min), plain(max), plain(value)));
        }
        return value;
    }

    /**
     * A count between {@code min} and {@code max}, both included.
     *
     * @param spec the command, for the error
     * @param option the option's name, such as {@code --drivers}
     * @param value the value given
     * @param min the smallest value accepted
     * @param max the largest value accepted
     * @return {@code value}
     * @throws CommandLine.ParameterException naming the option and the range
     */
    public static int count(CommandSpec spec, String option, int value, int min, int max) {
        if (value < min || value > max) {
            throw usage(spec, option + " must be from " + min + " to " + max + ", not " + value);
        }
        return value;
    }

    /**
     * A file the command will write when it is done: its directory must exist and be writable, and
     * the file itself, if it exists, must be a writable regular file.
     *
     * @param spec the command, for the error
     * @param option the option's name, such as {@code --trace}
     * @param file the path given, or {@code null} if the option was not given
     * @return {@code file}
     * @throws CommandLine.ParameterException naming the option and what is wrong
     */
    public static Path outputFile(CommandSpec spec, String option, Path file) {
        if (file == null) {
            return null;
        }
        Path parent = file.toAbsolutePath().getParent();
        if (Files.isDirectory(file)) {
            throw usage(spec, option + " " + file + ": is a directory; give a file name");
        }
        checkDirectory(spec, option, file, parent);
        if (Files.exists(file) && !Files.isWritable(file)) {
            throw usage(spec, option + " " + file + ": the file exists and cannot be written");
        }
        return file;
    }

    /**
     * A directory the command will write into: either it exists, is a directory and can be
     * written, or its parent does and can (the command creates it).
     *
     * @param spec the command, for the error
     * @param option the option's name, such as {@code --out}
     * @param dir the path given, or {@code null} if the option was not given
     * @return {@code dir}
     * @throws CommandLine.ParameterException naming the option and what is wrong
     */
    public static Path outputDirectory(CommandSpec spec, String option, Path dir) {
        if (dir == null) {
            return null;
        }
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                throw usage(spec, option + " " + dir + ": exists and is not a directory");
            }
            if (!Files.isWritable(dir)) {
                throw usage(spec, option + " " + dir + ": the directory cannot be written");
            }
            return dir;
        }
        checkDirectory(spec, option, dir, dir.toAbsolutePath().getParent());
        return dir;
    }

    private static void checkDirectory(CommandSpec spec, String option, Path given, Path dir) {
        if (dir == null) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw usage(spec, option + " " + given + ": the directory " + dir
                    + (Files.exists(dir) ? " is not a directory" : " does not exist"));
        }
        if (!Files.isWritable(dir)) {
            throw usage(spec, option + " " + given + ": the directory " + dir + " cannot be written");
        }
    }

    /**
     * A usage error of {@code spec}'s command.
     *
     * @param spec the command
     * @param message what is wrong, naming the option
     * @return the exception to throw
     */
    public static CommandLine.ParameterException usage(CommandSpec spec, String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private static String plain(double d) {
        return d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e15
                ? String.valueOf((long) d) : String.valueOf(d);
    }
}
