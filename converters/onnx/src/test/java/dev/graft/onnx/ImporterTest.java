package dev.graft.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Import rules of issue #2 that the backend suite does not exercise. */
class ImporterTest {

    @TempDir
    Path dir;

    private static NodeProto constant(String output, TensorProto value) {
        return NodeProto.newBuilder().setName(output + "_const").setOpType("Constant").addOutput(output)
                .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR).setT(value))
                .build();
    }

    private static TensorProto longs(String name, long... v) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(v.length);
        for (long x : v) b.addInt64Data(x);
        return b.build();
    }

    /**
     * paddle2onnx style: weights in Constant nodes, a symbolic batch dim named p2o.DynamicDimension.0, and a
     * Reshape target computed at run time by Shape -> Gather -> Unsqueeze -> Concat.
     */
    @Test
    void constantWeightsBecomeVariablesAndDynamicReshapeRunsAtAnyBatch() throws Exception {
        Nd4j.getRandom().setSeed(3);
        float[] w = Nd4j.rand(DataType.FLOAT, 4 * 3 * 3 * 3).data().asFloat();
        float[] bias = {0.1f, -0.2f, 0.3f, 0.05f};
        NodeProto gatherBatch = NodeProto.newBuilder().setName("gather_batch").setOpType("Gather")
                .addInput("shape").addInput("zero").addOutput("batch")
                .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0)).build();
        NodeProto concat = NodeProto.newBuilder().setName("target").setOpType("Concat")
                .addInput("batch_1d").addInput("minus_one").addOutput("target_shape")
                .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0)).build();
        GraphProto g = GraphProto.newBuilder().setName("p2o")
                .addInput(OnnxModels.floatInput("x", "p2o.DynamicDimension.0", 3, 8, 8))
                .addNode(constant("conv_w", OnnxModels.floats("conv_w", new long[]{4, 3, 3, 3}, w)))
                .addNode(constant("conv_b", OnnxModels.floats("conv_b", new long[]{4}, bias)))
                .addNode(OnnxModels.node("conv", "Conv", new String[]{"x", "conv_w", "conv_b"}, new String[]{"features"}))
                .addNode(OnnxModels.node("shape_of", "Shape", new String[]{"features"}, new String[]{"shape"}))
                .addNode(constant("zero", longs("zero", 0).toBuilder().clearDims().build()))
                .addNode(gatherBatch)
                .addNode(constant("axes0", longs("axes0", 0)))
                .addNode(OnnxModels.node("unsq", "Unsqueeze", new String[]{"batch", "axes0"}, new String[]{"batch_1d"}))
                .addNode(constant("minus_one", longs("minus_one", -1)))
                .addNode(concat)
                .addNode(OnnxModels.node("flatten", "Reshape", new String[]{"features", "target_shape"}, new String[]{"y"}))
                .addOutput(OnnxModels.floatInput("y", "p2o.DynamicDimension.0", 144))
                .build();
        Path file = OnnxModels.write(OnnxModels.model(g, 13), dir.resolve("p2o.onnx"));

        GraftModel model = Graft.load(file);
        assertEquals(VariableType.VARIABLE, model.sameDiff().getVariable("conv_w").getVariableType());
        assertEquals(VariableType.VARIABLE, model.sameDiff().getVariable("conv_b").getVariableType());
        assertEquals(List.of("conv_b", "conv_w"), model.parameterNames());
        assertEquals("p2o.DynamicDimension.0", model.inputs().get(0).dimNames().get(0));
        try (OrtRunner ort = new OrtRunner(file)) {
            for (int batch : new int[]{1, 32}) {
                INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, 8, 8);
                INDArray y = model.run(Map.of("x", x), List.of()).get("y");
                INDArray ref = ort.run(Map.of("x", x), List.of("y")).get("y");
                Agreement a = Agreement.of(y, ref, 1e-5, 1e-4);
                assertTrue(a.within(), "batch " + batch + ": " + a);
            }
        }
    }

    /** PyTorch names equal-valued weights through Identity nodes; each must stay its own weight. */
    @Test
    void identityOfAWeightIsASeparateWeight() throws Exception {
        GraphProto g = GraphProto.newBuilder().setName("tied")
                .addInput(OnnxModels.floatInput("x", 2, 3))
                .addInitializer(OnnxModels.floats("norm1.bias", new long[]{3}, 0, 0, 0))
                .addNode(OnnxModels.node("Identity_0", "Identity", new String[]{"norm1.bias"}, new String[]{"norm2.bias"}))
                .addNode(OnnxModels.node("add1", "Add", new String[]{"x", "norm1.bias"}, new String[]{"h"}))
                .addNode(OnnxModels.node("sq", "Mul", new String[]{"h", "h"}, new String[]{"h2"}))
                .addNode(OnnxModels.node("add2", "Add", new String[]{"h2", "norm2.bias"}, new String[]{"y"}))
                .addOutput(OnnxModels.floatInput("y", 2, 3)).build();
        GraftModel m = Graft.load(OnnxModels.write(OnnxModels.model(g, 13), dir.resolve("tied.onnx")));
        assertEquals(List.of("norm1.bias", "norm2.bias"), m.parameterNames());
        org.nd4j.autodiff.samediff.SameDiff sd = m.sameDiff();
        sd.setLossVariables(sd.getVariable("y").sum());
        INDArray x = Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, 5, 6}});
        Map<String, INDArray> grads = sd.calculateGradients(Map.of("x", x), "norm1.bias", "norm2.bias");
        // d/d b1 of sum((x + b1)^2 + b2) = 2 * column sums of x (b1 = 0); d/d b2 = batch size
        assertTrue(grads.get("norm1.bias").equalsWithEps(Nd4j.createFromArray(10f, 14f, 18f), 1e-5), grads.toString());
        assertTrue(grads.get("norm2.bias").equalsWithEps(Nd4j.createFromArray(2f, 2f, 2f), 1e-5), grads.toString());
    }

    /**
     * A size that depends on an integer input's value (Range(0, n)) must not be taken as fixed: the shape probe
     * feeds different integers in its two runs, so a Squeeze without axes refuses the dynamic dimension
     * instead of baking in the size one run happened to see.
     */
    @Test
    void sizesComputedFromIntegerInputValuesStayDynamic() throws Exception {
        TensorProto zero = longs("start", 0).toBuilder().clearDims().build();
        TensorProto one = longs("delta", 1).toBuilder().clearDims().build();
        ai.onnx.proto.OnnxMl.ValueInfoProto n = ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName("n")
                .setType(ai.onnx.proto.OnnxMl.TypeProto.newBuilder().setTensorType(ai.onnx.proto.OnnxMl.TypeProto.Tensor
                        .newBuilder().setElemType(TensorProto.DataType.INT64_VALUE)
                        .setShape(ai.onnx.proto.OnnxMl.TensorShapeProto.newBuilder()))).build();
        GraphProto g = GraphProto.newBuilder().setName("range")
                .addInput(n).addInitializer(zero).addInitializer(one).addInitializer(longs("axes0", 0))
                .addNode(OnnxModels.node("range", "Range", new String[]{"start", "n", "delta"}, new String[]{"r"}))
                .addNode(OnnxModels.node("unsq", "Unsqueeze", new String[]{"r", "axes0"}, new String[]{"r2"}))
                .addNode(OnnxModels.node("squeeze", "Squeeze", new String[]{"r2"}, new String[]{"y"}))
                .addOutput(ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName("y")).build();
        Path f = OnnxModels.write(OnnxModels.model(g, 13), dir.resolve("range.onnx"));
        dev.graft.GraftException e = org.junit.jupiter.api.Assertions.assertThrows(dev.graft.GraftException.class,
                () -> Graft.load(f));
        assertTrue(e.getMessage().contains("Node 'squeeze' (Squeeze, opset 13)")
                && e.getMessage().contains("dynamic dimension"), e.getMessage());
    }

    @Test
    void handleDescribesTheModel() {
        GraftModel m = Graft.load(Path.of("tests-resources/models/resnet_small/model.onnx"));
        assertEquals("onnx", m.source().format());
        assertEquals(13, m.source().opset());
        assertEquals(List.of("input"), m.inputNames());
        assertEquals(List.of("output"), m.outputNames());
        assertEquals("[batch, 3, 32, 32]", m.inputs().get(0).shapeText());
        assertEquals(DataType.FLOAT, m.outputs().get(0).dataType());
        assertTrue(m.parameterNames().contains("fc.weight"));
        // intermediate tensors keep their ONNX names
        assertTrue(m.sameDiff().hasVariable("/Flatten_output_0"));
    }
}
