package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Normalization family against the ONNX backend suite (SameDiff output vs the suite's reference outputs). */
class NormalizationOpsTest {

    /** Cases that fail today, with the reason; each must be fixed or explained. */
    private static final Map<String, String> KNOWN_FAILURES = Map.of();

    @Test
    void backendCasesPass() {
        List<String> problems = BackendSuite.check(
                Set.of("BatchNormalization", "InstanceNormalization", "LayerNormalization", "LRN"), KNOWN_FAILURES);
        assertEquals(List.of(), problems);
    }
}
