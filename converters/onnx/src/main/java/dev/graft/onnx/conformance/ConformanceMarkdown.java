package dev.graft.onnx.conformance;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Renders conformance results as the CONFORMANCE.md table committed in the repository. */
public final class ConformanceMarkdown {

    private ConformanceMarkdown() {
    }

    public static String render(List<ConformanceCase> results, String command) {
        StringBuilder sb = new StringBuilder();
        sb.append("# ONNX backend conformance\n\n");
        sb.append("graft imports each case's `model.onnx` into SameDiff, feeds `test_data_set_*/input_*.pb` and compares ")
                .append("with `output_*.pb` (|actual - expected| <= ").append(ConformanceRunner.ATOL).append(" + ")
                .append(ConformanceRunner.RTOL).append(" * |expected|; shapes and element types must match exactly; bfloat16 ")
                .append("outputs use rtol 1/128, one bfloat16 step, because the suite's generator truncates to bfloat16 ")
                .append("where the spec rounds to nearest even). ")
                .append("Cases come from Debian's `libonnx-testdata`. A case is *in scope* when every op it uses belongs ")
                .append("to the op families graft commits to (issue #2); other cases are skipped with the reason.\n\n");
        sb.append("Regenerate with:\n\n```\n").append(command).append("\n```\n\n");
        long scope = results.stream().filter(ConformanceCase::inScope).count();
        long scopePassed = results.stream().filter(r -> r.inScope() && r.status() == ConformanceCase.Status.PASSED).count();
        sb.append(String.format("**In scope: %d of %d cases pass (%.1f %%).**%n%n", scopePassed, scope,
                scope == 0 ? 0.0 : 100.0 * scopePassed / scope));
        boolean roundTrips = results.stream().anyMatch(r -> r.roundTrip() != null);
        if (roundTrips) {
            long rt = results.stream().filter(r -> r.inScope() && r.roundTrip() == ConformanceCase.Status.PASSED).count();
            long lo = results.stream().filter(r -> r.inScope() && r.lowered() == ConformanceCase.Status.PASSED).count();
            sb.append("**Round trip** (import, export to ONNX, ONNX Runtime, same references and tolerance), in scope: ")
                    .append(String.format("%d of %d (%.1f %%) as the exporter writes by default (intact source nodes written "
                            + "back as they were); %d of %d (%.1f %%) with every SameDiff op spelled out by its exporter "
                            + "(what a fine-tuned or hand-built graph goes through).%n%n", rt, scope, 100.0 * rt / Math.max(1, scope),
                            lo, scope, 100.0 * lo / Math.max(1, scope)));
        }
        sb.append("| suite | passed | failed | skipped | in scope | in scope passed |\n|---|---:|---:|---:|---:|---:|\n");
        Map<String, long[]> bySuite = new TreeMap<>();
        for (ConformanceCase r : results) {
            long[] c = bySuite.computeIfAbsent(r.suite(), k -> new long[5]);
            c[r.status().ordinal()]++;
            if (r.inScope()) {
                c[3]++;
                if (r.status() == ConformanceCase.Status.PASSED) c[4]++;
            }
        }
        long[] total = new long[5];
        bySuite.forEach((suite, c) -> {
            sb.append(String.format("| %s | %d | %d | %d | %d | %d |%n", suite, c[0], c[1], c[2], c[3], c[4]));
            for (int i = 0; i < 5; i++) total[i] += c[i];
        });
        sb.append(String.format("| **all** | %d | %d | %d | %d | %d |%n%n", total[0], total[1], total[2], total[3], total[4]));

        sb.append("## Per op (in-scope cases that use the op)\n\n")
                .append(roundTrips ? "| op | cases | passed | round trip | spelled out |\n|---|---:|---:|---:|---:|\n"
                        : "| op | cases | passed |\n|---|---:|---:|\n");
        Map<String, long[]> byOp = new TreeMap<>();
        for (ConformanceCase r : results) {
            if (!r.inScope()) continue;
            for (String op : r.ops()) {
                long[] c = byOp.computeIfAbsent(op, k -> new long[4]);
                c[0]++;
                if (r.status() == ConformanceCase.Status.PASSED) c[1]++;
                if (r.roundTrip() == ConformanceCase.Status.PASSED) c[2]++;
                if (r.lowered() == ConformanceCase.Status.PASSED) c[3]++;
            }
        }
        byOp.forEach((op, c) -> sb.append(roundTrips ? String.format("| %s | %d | %d | %d | %d |%n", op, c[0], c[1], c[2], c[3])
                : String.format("| %s | %d | %d |%n", op, c[0], c[1])));

        sb.append("\n## In-scope cases that fail\n\n");
        List<ConformanceCase> failed = results.stream()
                .filter(r -> r.inScope() && r.status() != ConformanceCase.Status.PASSED).toList();
        if (failed.isEmpty()) {
            sb.append("None.\n");
        } else {
            sb.append("| case | reason |\n|---|---|\n");
            for (ConformanceCase r : failed) {
                sb.append("| ").append(r.suite()).append('/').append(r.name()).append(" | ")
                        .append(shorten(r.reason())).append(" |\n");
            }
        }

        if (roundTrips) {
            sb.append("\n## In-scope cases that import but fail a round trip\n\n");
            List<ConformanceCase> rtFailed = results.stream().filter(r -> r.inScope() && r.status() == ConformanceCase.Status.PASSED
                    && (r.roundTrip() != ConformanceCase.Status.PASSED || r.lowered() != ConformanceCase.Status.PASSED)).toList();
            if (rtFailed.isEmpty()) {
                sb.append("None.\n");
            } else {
                sb.append("| case | default export | spelled out |\n|---|---|---|\n");
                for (ConformanceCase r : rtFailed) {
                    sb.append("| ").append(r.suite()).append('/').append(r.name()).append(" | ")
                            .append(r.roundTrip() == ConformanceCase.Status.PASSED ? "passes" : shorten(r.roundTripReason())).append(" | ")
                            .append(r.lowered() == ConformanceCase.Status.PASSED ? "passes" : shorten(r.loweredReason())).append(" |\n");
                }
            }
        }

        sb.append("\n## Skipped cases, by reason\n\n| reason | cases |\n|---|---:|\n");
        Map<String, Integer> reasons = new TreeMap<>();
        for (ConformanceCase r : results) {
            if (r.status() == ConformanceCase.Status.SKIPPED) {
                String reason = r.reason() == null ? "?" : r.reason().replaceAll(" for '.*'$", "");
                reasons.merge(reason, 1, Integer::sum);
            }
        }
        reasons.forEach((reason, n) -> sb.append("| ").append(shorten(reason)).append(" | ").append(n).append(" |\n"));
        return sb.toString();
    }

    private static String shorten(String s) {
        if (s == null) return "";
        String t = s.replace('|', '/').replace('\n', ' ');
        return t.length() > 300 ? t.substring(0, 300) + "..." : t;
    }
}
