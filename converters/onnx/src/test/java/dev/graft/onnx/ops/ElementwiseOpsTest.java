package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Elementwise arithmetic (binary ops incl. the legacy broadcast/axis versions, unary math,
 * Max/Min/Sum/Mean) against the ONNX backend suite (SameDiff output vs the suite's reference outputs),
 * restricted to cases whose ops all have converters here (see {@link CoreOps}).
 */
class ElementwiseOpsTest {

    static final Set<String> OPS = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Abs",
            "Neg", "Reciprocal", "Floor", "Ceil", "Erf", "Sin", "Cos", "Tanh", "Max", "Min", "Sum", "Mean");

    /** Cases that fail today, with the reason; each must be fixed or explained. */
    private static final Map<String, String> KNOWN_FAILURES = Map.of();

    @Test
    void backendCasesPass() {
        List<String> problems = BackendSuite.check(OPS, KNOWN_FAILURES);
        assertEquals(List.of(), problems);
    }

    /** graft's own cases for semantics the backend suite does not cover (see cases/generate.py). */
    @Test
    void graftCasesPass() {
        assertEquals(List.of(), BackendSuite.graftCaseProblems("elementwise"));
    }
}
