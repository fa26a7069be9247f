package dev.graft.cli;

import dev.graft.Graft;
import dev.graft.GraftException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code graft} command line: a thin layer over the Java API. Exit codes: 0 ok, 1 check failed, 2 bad input. */
@Command(name = "graft", mixinStandardHelpOptions = true, version = "graft " + Graft.VERSION,
        description = "Import ONNX models into SameDiff, graft new heads, fine-tune, export to ONNX.",
        subcommands = {DemoCommand.class, ExperimentCommand.class, InspectCommand.class, RunCommand.class, VerifyCommand.class, ConvertCommand.class, FinetuneCommand.class, ConformanceCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class GraftCli {

    public static final int OK = 0;
    public static final int CHECK_FAILED = 1;
    public static final int BAD_INPUT = 2;

    static {
        // javacpp warns on stderr that ND4J's OpenBLAS preset (1.5.7) differs from the pinned javacpp (1.5.11);
        // the combination is tested, so route javacpp's logging to SLF4J (silent) unless the user chose otherwise.
        if (System.getProperty("org.bytedeco.javacpp.logger") == null) {
            System.setProperty("org.bytedeco.javacpp.logger", "slf4j");
        }
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs a command line and returns its exit code (used by tests, which must not call System.exit). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new GraftCli());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("graft: " + e.getMessage());
            e.getCommandLine().usage(err);
            return BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof GraftException) {
                err.println("graft: " + e.getMessage());
                return BAD_INPUT;
            }
            err.println("graft: internal error: " + e);
            e.printStackTrace(err);
            return 3;
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            // Not a crash: the message says what ran out; nothing was written (outputs are written atomically).
            err.println("graft: out of memory (" + e.getMessage() + "); raise -Xmx through GRAFT_JAVA_OPTS or use a smaller input");
            return BAD_INPUT;
        }
    }
}
