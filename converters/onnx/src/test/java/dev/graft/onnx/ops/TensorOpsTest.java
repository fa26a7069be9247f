package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The index-like families (SliceOps, GatherOps, PadOps, FillOps, SpaceDepthOps, EinsumOps) against the ONNX
 * backend suite and graft's own cases in tests-resources/onnx-cases/tensor; they share IndexOperands.
 */
class TensorOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("Slice", "Gather", "GatherElements", "Split", "Expand", "Tile", "Pad",
                "ConstantOfShape", "Range", "DepthToSpace", "SpaceToDepth", "Einsum");
    }

    /** graft's own cases: dynamic dimensions, run-time index inputs, semantics the suite leaves out. */
    @Test
    void graftCasesPass() {
        assertEquals(List.of(), BackendSuite.graftCaseProblems("tensor"));
    }
}
