package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Shape family (Reshape, Squeeze, Cast, Dropout, ...) against the ONNX backend suite (SameDiff output vs reference outputs). */
class ShapeOpsTest {

    static final Set<String> OPS = Set.of("Identity", "Dropout", "Constant", "Cast", "Shape", "Size", "Reshape",
            "Flatten", "Transpose", "Concat", "Squeeze", "Unsqueeze");

    private static final String BFLOAT16_DATA = "the suite (onnx 1.12) stores bfloat16 tensors as UINT16 bit patterns, "
            + "which the runner feeds and compares as integers (and its FLOAT to BFLOAT16 reference truncates, "
            + "where the current spec rounds to nearest even)";
    private static final String RANDOM_MASK = "training-mode Dropout draws a random mask; the reference comes from "
            + "numpy's seeded generator, which SameDiff cannot reproduce (the ratio-0 cases pass)";

    /**
     * Cases that fail today, with the reason; each must be fixed or explained. Most are expanded function
     * bodies that also use ops of families not implemented on this branch; they pass once those are merged.
     */
    private static final Map<String, String> KNOWN_FAILURES = Map.ofEntries(
            Map.entry("node/test_cast_BFLOAT16_to_FLOAT", BFLOAT16_DATA),
            Map.entry("node/test_cast_FLOAT_to_BFLOAT16", BFLOAT16_DATA),
            Map.entry("node/test_castlike_BFLOAT16_to_FLOAT_expanded", BFLOAT16_DATA),
            Map.entry("node/test_castlike_FLOAT_to_BFLOAT16_expanded", BFLOAT16_DATA),
            Map.entry("node/test_celu_expanded", other("Elu")),
            Map.entry("node/test_layer_normalization_2d_axis0_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_2d_axis1_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_2d_axis_negative_1_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_2d_axis_negative_2_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_3d_axis0_epsilon_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_3d_axis1_epsilon_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_3d_axis2_epsilon_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_3d_axis_negative_1_epsilon_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_3d_axis_negative_2_epsilon_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_3d_axis_negative_3_epsilon_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_4d_axis0_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_4d_axis1_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_4d_axis2_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_4d_axis3_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_4d_axis_negative_1_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_4d_axis_negative_2_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_4d_axis_negative_3_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_4d_axis_negative_4_expanded", other("ReduceMean")),
            Map.entry("node/test_layer_normalization_default_axis_expanded", other("ReduceMean")),
            Map.entry("node/test_logsoftmax_axis_0_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_logsoftmax_axis_1_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_logsoftmax_axis_2_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_logsoftmax_default_axis_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_logsoftmax_example_1_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_logsoftmax_large_number_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_logsoftmax_negative_axis_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_mvn_expanded", other("ReduceMean")),
            Map.entry("node/test_nllloss_NCd1_expanded", other("ReduceMean")),
            Map.entry("node/test_nllloss_NCd1_ii_expanded", other("Equal", "ReduceSum", "Where")),
            Map.entry("node/test_nllloss_NCd1_mean_weight_negative_ii_expanded", other("Equal", "ReduceSum", "Where")),
            Map.entry("node/test_nllloss_NCd1_weight_expanded", other("ReduceSum")),
            Map.entry("node/test_nllloss_NCd1_weight_ii_expanded", other("Equal", "ReduceSum", "Where")),
            Map.entry("node/test_nllloss_NCd1d2_no_weight_reduction_mean_ii_expanded", other("Equal", "ReduceSum", "Where")),
            Map.entry("node/test_nllloss_NCd1d2_reduction_mean_expanded", other("ReduceMean")),
            Map.entry("node/test_nllloss_NCd1d2_reduction_sum_expanded", other("ReduceSum")),
            Map.entry("node/test_nllloss_NCd1d2_with_weight_reduction_mean_expanded", other("ReduceSum")),
            Map.entry("node/test_nllloss_NCd1d2_with_weight_reduction_sum_expanded", other("ReduceSum")),
            Map.entry("node/test_nllloss_NCd1d2_with_weight_reduction_sum_ii_expanded", other("Equal", "ReduceSum", "Where")),
            Map.entry("node/test_nllloss_NCd1d2d3_none_no_weight_negative_ii_expanded", other("Equal", "Where")),
            Map.entry("node/test_nllloss_NCd1d2d3_sum_weight_high_ii_expanded", other("Equal", "ReduceSum", "Where")),
            Map.entry("node/test_nllloss_NCd1d2d3d4d5_mean_weight_expanded", other("ReduceSum")),
            Map.entry("node/test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn", other("Resize")),
            Map.entry("node/test_softmax_axis_0_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_softmax_axis_1_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_softmax_axis_2_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_softmax_default_axis_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_softmax_example_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_softmax_large_number_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_softmax_negative_axis_expanded", other("ReduceMax", "ReduceSum")),
            Map.entry("node/test_training_dropout", RANDOM_MASK),
            Map.entry("node/test_training_dropout_default", RANDOM_MASK),
            Map.entry("node/test_training_dropout_default_mask", RANDOM_MASK),
            Map.entry("node/test_training_dropout_mask", RANDOM_MASK),
            Map.entry("pytorch-converted/test_PoissonNLLLLoss_no_reduce", other("Mul", "Sub")),
            Map.entry("pytorch-converted/test_Softsign", other("Add", "Div")),
            Map.entry("pytorch-operator/test_operator_addconstant", other("Add")),
            Map.entry("pytorch-operator/test_operator_mm", other("Gemm")));

    private static String other(String... ops) {
        return "needs " + String.join(", ", ops) + " (other op families, not implemented on this branch)";
    }

    @Test
    void backendCasesPass() {
        List<String> problems = BackendSuite.check(OPS, KNOWN_FAILURES);
        assertEquals(List.of(), problems);
    }

    /** graft's own cases: shapes computed in the graph from dynamic dimensions, run-time axes. */
    @Test
    void graftCasesPass() {
        assertEquals(List.of(), TensorOpsTest.graftCaseProblems("shape"));
    }
}
