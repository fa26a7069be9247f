package dev.graft.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;

/**
 * Writes docs/CLI.md: every command's picocli usage text, so the reference cannot drift from the code
 * ({@code CliReferenceTest} fails when the committed file differs from what this prints).
 *
 * <pre>java -cp target/graft.jar:$(cat target/classpath.txt) dev.graft.cli.CliReference docs/CLI.md</pre>
 */
public final class CliReference {

    /** Fixed width, so the text does not depend on the terminal that generated it. */
    static final int WIDTH = 110;

    private CliReference() {
    }

    public static void main(String[] args) throws IOException {
        String text = markdown();
        if (args.length == 0) {
            System.out.print(text);
        } else {
            dev.graft.io.AtomicFiles.write(Path.of(args[0]), text.getBytes(StandardCharsets.UTF_8));
        }
    }

    public static String markdown() {
        CommandLine root = new CommandLine(new GraftCli());
        StringBuilder sb = new StringBuilder();
        sb.append("# graft command line\n\n");
        sb.append("Generated from the commands' own help by `dev.graft.cli.CliReference` (regenerate: ")
                .append("`java -cp target/graft.jar:$(cat target/classpath.txt) dev.graft.cli.CliReference docs/CLI.md`; a test fails when this file is stale). ")
                .append("Every command also answers `--help`. Exit codes: 0 ok, 1 a check failed, 2 bad input ")
                .append("(one line naming the file, node or field), 3 internal error.\n");
        append(sb, root, "graft");
        return sb.toString();
    }

    private static void append(StringBuilder sb, CommandLine cmd, String path) {
        if (!path.equals("graft")) {
            sb.append("\n## ").append(path).append("\n\n```\n").append(usage(cmd)).append("```\n");
        } else {
            sb.append("\n```\n").append(usage(cmd)).append("```\n");
        }
        for (Map.Entry<String, CommandLine> e : cmd.getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) continue;
            append(sb, e.getValue(), path + " " + e.getKey());
        }
    }

    private static String usage(CommandLine cmd) {
        cmd.getCommandSpec().usageMessage().width(WIDTH);
        StringWriter w = new StringWriter();
        cmd.usage(new PrintWriter(w), CommandLine.Help.Ansi.OFF);
        return w.toString().lines().map(String::stripTrailing).reduce(new StringBuilder(), (b, l) -> b.append(l).append('\n'),
                StringBuilder::append).toString();
    }
}
