package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Reduce family (ReduceXxx, ArgMax, ArgMin) against the ONNX backend suite (SameDiff vs reference outputs). */
class ReduceOpsTest {

    /**
     * Cases that fail today, with the reason; each must be fixed or explained. All of them are expanded
     * function bodies that also use ops of other families, which are not implemented yet on this branch.
     */
    private static final Map<String, String> KNOWN_FAILURES = Map.ofEntries(
            Map.entry("node/test_layer_normalization_2d_axis0_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_2d_axis1_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_2d_axis_negative_1_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_2d_axis_negative_2_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_3d_axis0_epsilon_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_3d_axis1_epsilon_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_3d_axis2_epsilon_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_3d_axis_negative_1_epsilon_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_3d_axis_negative_2_epsilon_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_3d_axis_negative_3_epsilon_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_4d_axis0_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_4d_axis1_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_4d_axis2_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_4d_axis3_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_4d_axis_negative_1_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_4d_axis_negative_2_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_4d_axis_negative_3_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_4d_axis_negative_4_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_layer_normalization_default_axis_expanded",
                    "needs ConstantOfShape, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1_expanded",
                    "needs GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1_ii_expanded",
                    "needs GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1_mean_weight_negative_ii_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1_weight_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1_weight_ii_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2_no_weight_reduction_mean_ii_expanded",
                    "needs GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2_reduction_mean_expanded",
                    "needs GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2_reduction_sum_expanded",
                    "needs GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2_with_weight_reduction_mean_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2_with_weight_reduction_sum_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2_with_weight_reduction_sum_ii_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2d3_sum_weight_high_ii_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"),
            Map.entry("node/test_nllloss_NCd1d2d3d4d5_mean_weight_expanded",
                    "needs Gather, GatherElements, Slice (other op families, not implemented on this branch)"));

    @Test
    void backendCasesPass() {
        List<String> problems = BackendSuite.check(Set.of("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin"),
                KNOWN_FAILURES);
        assertEquals(List.of(), problems);
    }
}
