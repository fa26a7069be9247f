package dev.graft.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.onnx.conformance.ConformanceCase;
import dev.graft.onnx.conformance.ConformanceRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The ONNX backend conformance suite as installed by Debian's libonnx-testdata (.ci/run installs it).
 * Family tests run the cases that use their ops and require each to pass, except cases listed as known
 * failures with the reason, so a regression or a newly passing case both show up.
 */
public final class BackendSuite {

    public static final Path ROOT = Path.of("/usr/share/libonnx-testdata/data");
    public static final List<String> SUITES = List.of("node", "pytorch-converted", "pytorch-operator", "simple");

    private BackendSuite() {
    }

    public static List<Path> allCases() {
        assertTrue(Files.isDirectory(ROOT.resolve("node")),
                ROOT + " is missing: install Debian's libonnx-testdata (.ci/run does)");
        return ConformanceRunner.findCases(SUITES.stream().map(ROOT::resolve).toList());
    }

    private static List<ConformanceCase> results;

    /** Every case's result, computed once per test JVM (the family tests and the rate test share it). */
    public static synchronized List<ConformanceCase> results() {
        if (results == null) {
            results = List.copyOf(new ConformanceRunner(null, true).runAll(allCases(), r -> { }));
        }
        return results;
    }

    /**
     * Runs every in-scope case that uses at least one of {@code familyOps}; returns failures not listed in
     * {@code knownFailures} and known failures that now pass, as messages.
     */
    public static List<String> check(Set<String> familyOps, Map<String, String> knownFailures) {
        List<String> problems = new ArrayList<>();
        Map<String, String> seen = new TreeMap<>();
        int ran = 0;
        for (ConformanceCase r : results()) {
            if (!r.inScope() || r.ops().stream().noneMatch(familyOps::contains)) {
                continue;
            }
            ran++;
            String id = r.suite() + "/" + r.name();
            seen.put(id, r.status().toString());
            boolean known = knownFailures.containsKey(id);
            if (r.status() == ConformanceCase.Status.FAILED && !known) {
                problems.add(id + ": " + r.reason());
            } else if (r.status() == ConformanceCase.Status.PASSED && known) {
                problems.add(id + ": passes now; remove it from the known failures");
            }
        }
        assertTrue(ran > 0, "no backend case uses " + familyOps);
        for (String id : knownFailures.keySet()) {
            if (!seen.containsKey(id)) problems.add(id + ": listed as known failure but not run");
        }
        return problems;
    }

    /**
     * Like {@link #check} for the round trip with every op spelled out by the op exporters (import, export
     * without writing source nodes back, ONNX Runtime vs the expected outputs): returns the cases that
     * import but do not survive the round trip, unless listed in {@code knownFailures} with the reason.
     */
    public static List<String> checkLowered(Set<String> familyOps, Map<String, String> knownFailures) {
        List<String> problems = new ArrayList<>();
        Map<String, String> seen = new TreeMap<>();
        for (ConformanceCase r : results()) {
            if (!r.inScope() || r.status() != ConformanceCase.Status.PASSED
                    || r.ops().stream().noneMatch(familyOps::contains)) {
                continue;
            }
            String id = r.suite() + "/" + r.name();
            seen.put(id, String.valueOf(r.lowered()));
            boolean known = knownFailures.containsKey(id);
            // SKIPPED: ONNX Runtime cannot run the source model either (no kernel, a type its Java API cannot
            // feed) or deviates from the reference on it alike; the runner says which. Not the exporter's doing.
            if (r.lowered() == ConformanceCase.Status.FAILED && !known) {
                problems.add(id + ": " + r.loweredReason());
            } else if (r.lowered() == ConformanceCase.Status.PASSED && known) {
                problems.add(id + ": round trip passes now; remove it from the known failures");
            }
        }
        for (String id : knownFailures.keySet()) {
            if (!seen.containsKey(id)) problems.add(id + ": listed as known round-trip failure but not run");
        }
        return problems;
    }

    /** graft's own cases (tests-resources/scripts/make_onnx_cases_*.py), one folder per family. */
    public static final Path GRAFT_CASES = Path.of("tests-resources/onnx-cases");

    /**
     * Runs every case under {@code tests-resources/onnx-cases/<family>} (two data sets of different sizes
     * where dimensions are dynamic); returns each one that did not pass.
     */
    public static List<String> graftCaseProblems(String family) {
        Path dir = GRAFT_CASES.resolve(family);
        assertTrue(Files.isDirectory(dir), dir.toAbsolutePath() + " is missing");
        List<Path> cases = ConformanceRunner.findCases(List.of(dir));
        assertTrue(!cases.isEmpty(), "no case in " + dir);
        ConformanceRunner runner = new ConformanceRunner(null, true);
        List<String> problems = new ArrayList<>();
        for (Path c : cases) {
            ConformanceCase r = runner.run(c);
            if (r.status() != ConformanceCase.Status.PASSED) {
                problems.add(family + "/" + r.name() + ": " + r.status() + " " + r.reason());
            } else if (r.roundTrip() == ConformanceCase.Status.FAILED) {
                problems.add(family + "/" + r.name() + ": round trip " + r.roundTripReason());
            } else if (r.lowered() == ConformanceCase.Status.FAILED) {
                problems.add(family + "/" + r.name() + ": lowered round trip " + r.loweredReason());
            }
        }
        return problems;
    }
}
