package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Shape family (Reshape, Squeeze, Cast, Dropout, ...) against the ONNX backend suite (SameDiff output vs reference outputs). */
class ShapeOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("Identity", "Dropout", "Constant", "Cast", "Shape", "Size", "Reshape",
                "Flatten", "Transpose", "Concat", "Squeeze", "Unsqueeze");
    }

    /** graft's own cases: shapes computed in the graph from dynamic dimensions, run-time axes. */
    @Test
    void graftCasesPass() {
        assertEquals(List.of(), BackendSuite.graftCaseProblems("shape"));
    }
}
