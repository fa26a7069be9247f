package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Gemm and MatMul against the ONNX backend suite (SameDiff output vs the suite's
 * reference outputs), and graft's own cases.
 */
class GemmOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("Gemm", "MatMul");
    }

    /** graft's own cases for semantics the backend suite does not cover (tests-resources/scripts/make_onnx_cases_core.py). */
    @Test
    void graftCasesPass() {
        assertEquals(List.of(), BackendSuite.graftCaseProblems("gemm"));
    }
}
