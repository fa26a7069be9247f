package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Elementwise arithmetic (binary ops incl. the legacy broadcast/axis versions, unary math, Max/Min/Sum/Mean) against the ONNX backend suite (SameDiff output vs the suite's reference outputs). */
class ElementwiseOpsTest {

    /** Cases that fail today, with the reason; each must be fixed or explained. */
    private static final Map<String, String> KNOWN_FAILURES = Map.of();

    @Test
    void backendCasesPass() {
        List<String> problems = BackendSuite.check(CoreOps.ELEMENTWISE, CoreOps.ALLOWED, KNOWN_FAILURES);
        assertEquals(List.of(), problems);
    }
}
