package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.GraftModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import ai.onnx.proto.OnnxMl.ModelProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Normalization family against the ONNX backend suite, plus op versions and forms the suite lacks. */
class NormalizationOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("BatchNormalization", "InstanceNormalization", "LayerNormalization", "LRN");
    }

    @TempDir
    Path tmp;

    private static INDArray vec(double... v) {
        return Nd4j.createFromArray(v).castTo(DataType.FLOAT);
    }

    /** [N, C] input (BatchNorm1d on features): statistics per column. */
    @Test
    void batchNormRank2() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 3);
        INDArray s = vec(1, 2, 3), b = vec(0.5, -1, 0), m = vec(0.1, 0.2, 0.3), v = vec(1, 0.5, 2);
        for (int opset : new int[]{6, 9, 15}) {
            SingleNodeModel model = new SingleNodeModel("BatchNormalization", opset).input("x", x)
                    .initializer("s", s).initializer("b", b).initializer("m", m).initializer("v", v).output("y");
            if (opset < 7) model.attr("is_test", 1L);
            INDArray y = model.run(tmp).get("y");
            INDArray expected = x.subRowVector(m).divRowVector(Nd4j.math.sqrt(v.add(1e-5))).mulRowVector(s).addRowVector(b);
            assertTrue(expected.equalsWithEps(y, 1e-5), "opset " + opset + ": " + y + " vs " + expected);
        }
    }

    /** spatial=0 (opsets 1-8): statistics have the shape of one sample. */
    @Test
    void batchNormSpatialZero() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 2, 3);
        INDArray s = Nd4j.rand(DataType.FLOAT, 2, 3), b = Nd4j.rand(DataType.FLOAT, 2, 3);
        INDArray m = Nd4j.rand(DataType.FLOAT, 2, 3), v = Nd4j.rand(DataType.FLOAT, 2, 3).addi(0.5);
        INDArray y = new SingleNodeModel("BatchNormalization", 7).input("x", x).initializer("s", s)
                .initializer("b", b).initializer("m", m).initializer("v", v).attr("spatial", 0L).output("y").run(tmp).get("y");
        for (int n = 0; n < 2; n++) {
            INDArray expected = x.slice(n).sub(m).div(Nd4j.math.sqrt(v.add(1e-5))).mul(s).add(b);
            assertTrue(expected.equalsWithEps(y.slice(n), 1e-5));
        }
    }

    /** Even sizes have an asymmetric window: floor((size-1)/2) channels before, ceil((size-1)/2) after. */
    @Test
    void lrnEvenSize() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 1, 5, 2, 2).subi(0.5);
        INDArray y = new SingleNodeModel("LRN", 13).input("x", x).attr("size", 2L).attr("alpha", 0.5f)
                .attr("beta", 0.75f).attr("bias", 1.0f).output("y").run(tmp).get("y");
        for (int c = 0; c < 5; c++) {
            for (int h = 0; h < 2; h++) {
                for (int w = 0; w < 2; w++) {
                    double sq = 0;
                    for (int k = c; k <= Math.min(4, c + 1); k++) sq += Math.pow(x.getDouble(0, k, h, w), 2);
                    double expected = x.getDouble(0, c, h, w) / Math.pow(1.0 + 0.5 / 2 * sq, 0.75);
                    assertEquals(expected, y.getDouble(0, c, h, w), 1e-5);
                }
            }
        }
    }

    /** Scale and bias stay trainable variables, and gradients reach them through every normalization. */
    @Test
    void weightsStayTrainable() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 4, 4);
        List<SingleNodeModel> models = List.of(
                new SingleNodeModel("BatchNormalization", 15).input("x", x).initializer("s", vec(1, 2, 3))
                        .initializer("b", vec(0, 0, 1)).initializer("m", vec(0, 0, 0)).initializer("v", vec(1, 1, 1)).output("y"),
                new SingleNodeModel("InstanceNormalization", 6).input("x", x).initializer("s", vec(1, 2, 3))
                        .initializer("b", vec(0, 0, 1)).output("y"),
                new SingleNodeModel("LayerNormalization", 17).input("x", x).initializer("s", Nd4j.rand(DataType.FLOAT, 4))
                        .initializer("b", Nd4j.rand(DataType.FLOAT, 4)).output("y"));
        for (SingleNodeModel model : models) {
            GraftModel g = model.importModel(tmp);
            SameDiff sd = g.sameDiff();
            assertEquals(VariableType.VARIABLE, sd.getVariable("s").getVariableType());
            assertEquals(VariableType.VARIABLE, sd.getVariable("b").getVariableType());
            if (sd.hasVariable("m")) {
                // Running statistics are variables too (model state); fine-tuning decides whether they change.
                assertEquals(VariableType.VARIABLE, sd.getVariable("m").getVariableType());
                assertEquals(VariableType.VARIABLE, sd.getVariable("v").getVariableType());
            }
            SDVariable loss = sd.math().square(sd.getVariable("y")).sum();
            sd.setLossVariables(loss);
            Map<String, INDArray> grads = sd.calculateGradients(Map.of("x", x), "s", "b");
            assertNotNull(grads.get("s"));
            assertTrue(grads.get("s").norm2Number().doubleValue() > 0);
            assertTrue(grads.get("b").norm2Number().doubleValue() > 0);
        }
    }

    /** Numeric gradient check (double precision) of every weight through each normalization. */
    @Test
    void gradientsMatchFiniteDifferences() {
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 4, 3, 3);
        INDArray c = Nd4j.rand(DataType.DOUBLE, 4);
        List<SingleNodeModel> models = List.of(
                new SingleNodeModel("BatchNormalization", 15).initializer("x", x).initializer("s", c.add(0.5))
                        .initializer("b", c.dup()).initializer("m", c.mul(0.1)).initializer("v", c.add(1)).output("y", DataType.DOUBLE),
                new SingleNodeModel("InstanceNormalization", 6).initializer("x", x).initializer("s", c.add(0.5))
                        .initializer("b", c.dup()).output("y", DataType.DOUBLE),
                new SingleNodeModel("LayerNormalization", 17).initializer("x", x).initializer("s", Nd4j.rand(DataType.DOUBLE, 3, 3))
                        .initializer("b", Nd4j.rand(DataType.DOUBLE, 3, 3)).attr("axis", -2L).attr("stash_type", 11L).output("y", DataType.DOUBLE),
                new SingleNodeModel("LRN", 13).initializer("x", x).attr("size", 3L).attr("alpha", 0.3f).output("y", DataType.DOUBLE));
        DataType before = Nd4j.dataType();
        DataType beforeFloat = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE); // GradCheckUtil requires it
        try {
            for (SingleNodeModel model : models) {
                SameDiff sd = model.importModel(tmp).sameDiff();
                SDVariable y = sd.getVariable("y");
                sd.setLossVariables(y.mul(sd.constant(Nd4j.rand(DataType.DOUBLE, y.eval().shape()))).sum());
                assertTrue(org.nd4j.autodiff.validation.GradCheckUtil.checkGradients(sd, Map.of()), model.toString());
            }
        } finally {
            Nd4j.setDefaultDataTypes(before, beforeFloat);
        }
    }

    // ---------------------------------------------------------------- export of hand-built graphs
    // 1e-5 absolute: float32 means and variances over 4-48 elements summed in another order, then scaled by
    // gains of size ~1-2; outputs stay within ~10.

    private static INDArray positive(int n) {
        return Nd4j.rand(DataType.FLOAT, n).addi(0.5);
    }

    /**
     * sd.nn.batchNorm over channel axis 1 ([N, C] and NCHW) is one BatchNormalization, with and without gamma
     * and beta; over the last axis of NHWC it is written out.
     */
    @ParameterizedTest
    @ValueSource(ints = {13, 17, 21})
    void batchNormExports(int opset) {
        Nd4j.getRandom().setSeed(21);
        SameDiff sd = SameDiff.create();
        SDVariable flat = sd.placeHolder("flat", DataType.FLOAT, -1, 3);
        SDVariable img = sd.placeHolder("img", DataType.FLOAT, -1, 3, 4, 3);
        SDVariable mean = sd.var("mean", Nd4j.randn(DataType.FLOAT, 3)), var = sd.var("var", positive(3));
        SDVariable gamma = sd.var("gamma", positive(3)), beta = sd.var("beta", Nd4j.randn(DataType.FLOAT, 3));
        sd.nn().batchNorm("bn_flat", flat, mean, var, gamma, beta, 1e-3, 1);
        sd.nn().batchNorm("bn_nchw", img, mean, var, gamma, beta, 1e-5, 1);
        sd.nn().batchNorm("bn_nhwc", img, mean, var, gamma, beta, 1e-5, 3);
        sd.nn().batchNorm("bn_plain", flat, mean, var, null, null, 1e-5, 1);
        sd.nn().batchNorm("bn_plain_nhwc", img, mean, var, null, null, 1e-5, 3);
        List<String> outs = List.of("bn_flat", "bn_nchw", "bn_nhwc", "bn_plain", "bn_plain_nhwc");
        List<Map<String, INDArray>> feeds = java.util.stream.IntStream.of(1, 7).mapToObj(n -> Map.of(
                "flat", Nd4j.randn(DataType.FLOAT, n, 3), "img", Nd4j.randn(DataType.FLOAT, n, 3, 4, 3))).toList();
        ModelProto m = HandBuiltExport.assertExportMatches(sd, outs, opset, 1e-5, feeds);
        assertEquals(3, HandBuiltExport.opCounts(m).get("BatchNormalization"));
    }

    /**
     * sd.nn.layerNorm (no epsilon in libnd4j) with and without bias: over the last axis it is one
     * LayerNormalization from opset 17 and written out before; over C, H, W of NCHW the gain is per channel
     * (axis 1), not per element, so it is always written out. A constant row gives 0 (times the gain, plus bias)
     * in both, not NaN.
     */
    @ParameterizedTest
    @ValueSource(ints = {13, 17, 18, 21})
    void layerNormExports(int opset) {
        Nd4j.getRandom().setSeed(22);
        SameDiff sd = SameDiff.create();
        SDVariable flat = sd.placeHolder("flat", DataType.FLOAT, -1, 6);
        SDVariable img = sd.placeHolder("img", DataType.FLOAT, -1, 3, 4, 2);
        SDVariable g = sd.var("g", positive(6)), b = sd.var("b", Nd4j.randn(DataType.FLOAT, 6));
        SDVariable gc = sd.var("gc", positive(3)), bc = sd.var("bc", Nd4j.randn(DataType.FLOAT, 3));
        sd.nn().layerNorm("ln", flat, g, b, false, 1);
        sd.nn().layerNorm("ln_no_bias", flat, g, false, 1);
        sd.nn().layerNorm("ln_nchw", img, gc, bc, true, 1, 2, 3);
        List<String> outs = List.of("ln", "ln_no_bias", "ln_nchw");
        List<Map<String, INDArray>> feeds = java.util.stream.IntStream.of(1, 7).mapToObj(n -> {
            INDArray f = Nd4j.randn(DataType.FLOAT, n, 6).muli(2).addi(1);
            f.getRow(0).assign(0.75);
            return Map.of("flat", f, "img", Nd4j.randn(DataType.FLOAT, n, 3, 4, 2));
        }).toList();
        ModelProto m = HandBuiltExport.assertExportMatches(sd, outs, opset, 1e-5, feeds);
        Integer fused = HandBuiltExport.opCounts(m).get("LayerNormalization");
        assertEquals(opset >= 17 ? 2 : null, fused, "LayerNormalization nodes at opset " + opset);
    }
}
