package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
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
        assertEquals(List.of(), BackendSuite.graftCaseProblems("tensor"));
    }
}
