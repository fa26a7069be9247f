package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Shape family (Reshape, Squeeze, Cast, Dropout, ...) against the ONNX backend suite (SameDiff output vs reference outputs). */
class ShapeOpsTest {

    static final Set<String> OPS = Set.of("Identity", "Dropout", "Constant", "Cast", "Shape", "Size", "Reshape",
            "Flatten", "Transpose", "Concat", "Squeeze", "Unsqueeze");

    /** Cases that fail today, with the reason; none at present. */
    private static final Map<String, String> KNOWN_FAILURES = Map.of();

    @Test
    void backendCasesPass() {
        List<String> problems = BackendSuite.check(OPS, KNOWN_FAILURES);
        assertEquals(List.of(), problems);
    }

    /** graft's own cases: shapes computed in the graph from dynamic dimensions, run-time axes. */
    @Test
    void graftCasesPass() {
        assertEquals(List.of(), BackendSuite.graftCaseProblems("shape"));
    }
}
