package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Comparisons, logical ops and Where against the ONNX backend suite (SameDiff vs reference outputs). */
class ComparisonOpsTest {

    /**
     * Cases that fail today, with the reason; each must be fixed or explained. All of them are expanded
     * function bodies that also use ops of other families, which are not implemented yet on this branch.
     */
    private static final Map<String, String> KNOWN_FAILURES = Map.ofEntries(
            Map.entry("node/test_nllloss_NCd1_ii_expanded",
                    "needs GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1_mean_weight_negative_ii_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1_weight_ii_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2_no_weight_reduction_mean_ii_expanded",
                    "needs GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2_with_weight_reduction_sum_ii_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2d3_none_no_weight_negative_ii_expanded",
                    "needs GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2d3_sum_weight_high_ii_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"));

    @Test
    void backendCasesPass() {
        List<String> problems = BackendSuite.check(Set.of("Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual",
                "Not", "And", "Or", "Xor", "Where"), KNOWN_FAILURES);
        assertEquals(List.of(), problems);
    }
}
