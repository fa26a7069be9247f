package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.onnx.BackendSuite;
import dev.graft.onnx.conformance.ConformanceCase;
import dev.graft.onnx.conformance.ConformanceRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Tensor family (Slice, Gather, Split, Pad, Expand, ...) against the ONNX backend suite (SameDiff output vs reference outputs). */
class TensorOpsTest {

    static final Set<String> OPS = Set.of("Slice", "Gather", "GatherElements", "Split", "Expand", "Tile", "Pad",
            "ConstantOfShape", "Range", "DepthToSpace", "SpaceToDepth", "Einsum");

    /** Cases that fail today, with the reason; none at present. */
    private static final Map<String, String> KNOWN_FAILURES = Map.of();


    @Test
    void backendCasesPass() {
        List<String> problems = BackendSuite.check(OPS, KNOWN_FAILURES);
        assertEquals(List.of(), problems);
    }

    /** graft's own cases: dynamic dimensions, run-time index inputs, semantics the suite leaves out. */
    @Test
    void graftCasesPass() {
        assertEquals(List.of(), graftCaseProblems("tensor"));
    }

    /**
     * Runs every case under {@code tests-resources/onnx-cases/<family>} (made by tests-resources/scripts/make_onnx_cases_tensor.py
     * there, two data sets of different sizes where dimensions are dynamic); returns those not passing.
     */
    static List<String> graftCaseProblems(String family) {
        Path dir = Path.of("tests-resources/onnx-cases", family);
        assertTrue(Files.isDirectory(dir), dir.toAbsolutePath() + " is missing");
        List<Path> cases = ConformanceRunner.findCases(List.of(dir));
        assertTrue(!cases.isEmpty(), "no case in " + dir);
        ConformanceRunner runner = new ConformanceRunner(null);
        List<String> problems = new ArrayList<>();
        for (Path c : cases) {
            ConformanceCase r = runner.run(c);
            if (r.status() != ConformanceCase.Status.PASSED) {
                problems.add(family + "/" + r.name() + ": " + r.status() + " " + r.reason());
            }
        }
        return problems;
    }
}
