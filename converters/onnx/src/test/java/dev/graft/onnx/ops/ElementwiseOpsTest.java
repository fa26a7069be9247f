package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Elementwise arithmetic (binary ops incl. the legacy broadcast/axis versions, unary math,
 * Max/Min/Sum/Mean) against the ONNX backend suite (SameDiff output vs the suite's reference outputs),
 * and graft's own cases.
 */
class ElementwiseOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Abs",
                "Neg", "Reciprocal", "Floor", "Ceil", "Erf", "Sin", "Cos", "Tanh", "Max", "Min", "Sum", "Mean");
    }

    /** graft's own cases for semantics the backend suite does not cover (tests-resources/scripts/make_onnx_cases_core.py). */
    @Test
    void graftCasesPass() {
        assertEquals(List.of(), BackendSuite.graftCaseProblems("elementwise"));
    }
}
