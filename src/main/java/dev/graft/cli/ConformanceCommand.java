package dev.graft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.graft.io.AtomicFiles;
import dev.graft.onnx.conformance.ConformanceCase;
import dev.graft.onnx.conformance.ConformanceRunner;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "conformance", mixinStandardHelpOptions = true,
        description = "Run ONNX backend test cases (model.onnx + test_data_set_*) through the importer and compare outputs.")
final class ConformanceCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "DIR", description = "Folders searched for <case>/model.onnx.")
    List<Path> dirs;

    @Option(names = "--report", paramLabel = "FILE", description = "Write a JSON report of every case.")
    Path report;

    @Option(names = "--dump", paramLabel = "OUTDIR", description = "Write each computed output as OUTDIR/<case>/output_<i>.npy.")
    Path dump;

    @Option(names = "--filter", paramLabel = "REGEX", description = "Only cases whose name matches (find, not full match).")
    String filter;

    @Option(names = "--markdown", paramLabel = "FILE", description = "Write the results as a Markdown table (CONFORMANCE.md).")
    Path markdown;

    @Option(names = "--quiet", description = "Print only failures and the summary.")
    boolean quiet;

    @Option(names = "--roundtrip", description = "Also export each case that imports and run the export in ONNX Runtime: "
            + "once as the exporter writes by default (intact source nodes written back), once with every SameDiff op "
            + "spelled out by its exporter.")
    boolean roundTrip;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<Path> cases = ConformanceRunner.findCases(dirs);
        if (filter != null) {
            Pattern p = Pattern.compile(filter);
            cases = cases.stream().filter(c -> p.matcher(c.getFileName().toString()).find()).toList();
        }
        ConformanceRunner runner = new ConformanceRunner(dump, roundTrip);
        List<ConformanceCase> results = runner.runAll(cases, r -> {
            boolean roundTripFailed = r.roundTrip() == ConformanceCase.Status.FAILED || r.lowered() == ConformanceCase.Status.FAILED;
            if (!quiet || r.status() == ConformanceCase.Status.FAILED || roundTripFailed) {
                out.printf("%-7s %s/%s%s%n", r.status(), r.suite(), r.name(), r.reason() == null ? "" : "  " + r.reason());
                if (r.roundTrip() != null) {
                    out.printf("        round trip %s%s; spelled out %s%s%n", r.roundTrip(),
                            r.roundTripReason() == null ? "" : " (" + r.roundTripReason() + ")", r.lowered(),
                            r.loweredReason() == null ? "" : " (" + r.loweredReason() + ")");
                }
                out.flush();
            }
        });
        long passed = count(results, ConformanceCase.Status.PASSED, false);
        long failed = count(results, ConformanceCase.Status.FAILED, false);
        long skipped = count(results, ConformanceCase.Status.SKIPPED, false);
        long scopePassed = count(results, ConformanceCase.Status.PASSED, true);
        long scopeTotal = results.stream().filter(ConformanceCase::inScope).count();
        if (report != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("tolerance", Map.of("rtol", ConformanceRunner.RTOL, "atol", ConformanceRunner.ATOL));
            Map<String, Object> summary = new LinkedHashMap<>(Map.of("passed", passed, "failed", failed, "skipped", skipped,
                    "in_scope", scopeTotal, "in_scope_passed", scopePassed));
            if (roundTrip) {
                summary.put("in_scope_round_trip_passed", roundTrips(results, false));
                summary.put("in_scope_spelled_out_passed", roundTrips(results, true));
            }
            doc.put("summary", summary);
            doc.put("cases", results);
            AtomicFiles.write(report, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(doc));
        }
        if (markdown != null) {
            String command = "./graft conformance " + String.join(" ", dirs.stream().map(Path::toString).toList())
                    + (roundTrip ? " --roundtrip" : "") + " --markdown " + markdown.getFileName();
            AtomicFiles.write(markdown, dev.graft.onnx.conformance.ConformanceMarkdown.render(results, command)
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        out.printf("in scope (all ops in graft's op families): %d of %d passed (%.1f %%)%n", scopePassed, scopeTotal,
                scopeTotal == 0 ? 0.0 : 100.0 * scopePassed / scopeTotal);
        if (roundTrip) {
            long rt = roundTrips(results, false);
            long lowered = roundTrips(results, true);
            out.printf("round trip (import, export, ONNX Runtime), in scope: %d of %d passed (%.1f %%); with every op "
                            + "spelled out: %d of %d (%.1f %%)%n", rt, scopeTotal, percent(rt, scopeTotal), lowered, scopeTotal,
                    percent(lowered, scopeTotal));
        }
        out.printf("%d passed, %d failed, %d skipped%n", passed, failed, skipped);
        out.flush();
        return GraftCli.OK;
    }

    private static double percent(long n, long of) {
        return of == 0 ? 0.0 : 100.0 * n / of;
    }

    /** In-scope cases whose round trip (the default one, or the spelled-out one) passed. */
    private static long roundTrips(List<ConformanceCase> results, boolean spelledOut) {
        return results.stream().filter(r -> r.inScope()
                && (spelledOut ? r.lowered() : r.roundTrip()) == ConformanceCase.Status.PASSED).count();
    }

    private static long count(List<ConformanceCase> results, ConformanceCase.Status status, boolean scopeOnly) {
        return results.stream().filter(r -> r.status() == status && (!scopeOnly || r.inScope())).count();
    }
}
