package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

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

    // ---------------------------------------------------------------- export of hand-built graphs
    // 1e-5 absolute: float32 dot products of up to 12 terms of size ~1 summed in another order (ND4J's BLAS vs
    // ONNX Runtime's MLAS) differ by ~1e-6.

    /** sd.nn.linear (xw_plus_b) is one Gemm, at batch 1 and 7. */
    @ParameterizedTest
    @ValueSource(ints = {13, 17, 21})
    void linearIsOneGemm(int opset) {
        Nd4j.getRandom().setSeed(7);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 12);
        sd.nn().linear("y", x, sd.var("w", Nd4j.randn(DataType.FLOAT, 12, 4)), sd.var("b", Nd4j.randn(DataType.FLOAT, 4)));
        ModelProto m = HandBuiltExport.assertExportMatches(sd, List.of("y"), opset, 1e-5,
                HandBuiltExport.batches("x", b -> Nd4j.randn(DataType.FLOAT, b, 12), 1, 7));
        HandBuiltExport.assertOps(Map.of("Gemm", 1), m, "linear");
    }

    /** xw_plus_b with integer argument 1 takes the weights as [out, in] (transposed), as libnd4j does. */
    @Test
    void linearWithTransposedWeights() {
        Nd4j.getRandom().setSeed(8);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 12);
        SDVariable y = sd.nn().linear("y", x, sd.var("w", Nd4j.randn(DataType.FLOAT, 4, 12)), sd.var("b", Nd4j.randn(DataType.FLOAT, 4)));
        ((DynamicCustomOp) sd.getVariableOutputOp(y.name())).addIArgument(1);
        ModelProto m = HandBuiltExport.assertExportMatches(sd, List.of("y"), 17, 1e-5,
                HandBuiltExport.batches("x", b -> Nd4j.randn(DataType.FLOAT, b, 12), 1, 7));
        HandBuiltExport.assertOps(Map.of("Gemm", 1), m, "linear, transposed weights");
    }

    /** biasAdd on [N, C] and on channels-last and channels-first images. */
    @ParameterizedTest
    @ValueSource(ints = {13, 21})
    void biasAdd(int opset) {
        Nd4j.getRandom().setSeed(9);
        SameDiff sd = SameDiff.create();
        SDVariable flat = sd.placeHolder("flat", DataType.FLOAT, -1, 3);
        SDVariable img = sd.placeHolder("img", DataType.FLOAT, -1, 3, 4, 3);
        SDVariable b = sd.var("b", Nd4j.randn(DataType.FLOAT, 3));
        sd.nn().biasAdd("flat_b", flat, b, false);
        sd.nn().biasAdd("nhwc", img, b, false);
        sd.nn().biasAdd("nchw", img, b, true);
        List<Map<String, org.nd4j.linalg.api.ndarray.INDArray>> feeds = java.util.stream.IntStream.of(1, 7)
                .mapToObj(n -> Map.of("flat", Nd4j.randn(DataType.FLOAT, n, 3), "img", Nd4j.randn(DataType.FLOAT, n, 3, 4, 3))).toList();
        ModelProto m = HandBuiltExport.assertExportMatches(sd, List.of("flat_b", "nhwc", "nchw"), opset, 1e-6, feeds);
        HandBuiltExport.assertOps(Map.of("Add", 3, "Unsqueeze", 1), m, "biasAdd");
    }

    /** mmul with transpose flags: rank 2 is one Gemm or MatMul (a transposed result swaps the operands), rank 3 transposes the last two axes. */
    @ParameterizedTest
    @ValueSource(ints = {13, 21})
    void matmulWithTransposes(int opset) {
        Nd4j.getRandom().setSeed(10);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 5);
        SDVariable w = sd.var("w", Nd4j.randn(DataType.FLOAT, 5, 6));
        SDVariable wt = sd.var("wt", Nd4j.randn(DataType.FLOAT, 6, 5));
        sd.mmul("plain", x, w);
        sd.mmul("tb", x, wt, false, true, false);
        sd.mmul("ta_tr", w, x, true, true, true);
        SDVariable seq = sd.placeHolder("seq", DataType.FLOAT, -1, 4, 5);
        sd.mmul("batched", seq, sd.math().tanh(seq), false, true, false);
        List<Map<String, org.nd4j.linalg.api.ndarray.INDArray>> feeds = java.util.stream.IntStream.of(1, 7)
                .mapToObj(n -> Map.of("x", Nd4j.randn(DataType.FLOAT, n, 5), "seq", Nd4j.randn(DataType.FLOAT, n, 4, 5))).toList();
        ModelProto m = HandBuiltExport.assertExportMatches(sd, List.of("plain", "tb", "ta_tr", "batched"), opset, 1e-5, feeds);
        assertEquals(Map.of("MatMul", 3, "Gemm", 1, "Transpose", 1, "Tanh", 1), HandBuiltExport.opCounts(m));
    }
}
