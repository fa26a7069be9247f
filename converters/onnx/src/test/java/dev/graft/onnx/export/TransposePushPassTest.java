package dev.graft.onnx.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.graft.onnx.OnnxTensors;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * TransposePushPass on small ONNX graphs written by hand, one handler at a time: x [2, 3, 4, 5] transposed to
 * "NHWC" [2, 4, 5, 3], an op, and usually the Transpose back. ONNX Runtime gives the same outputs before and after
 * the pass, and the Transposes go where the pass says they go.
 */
class TransposePushPassTest {

    private static final long[] TO_LAST = {0, 2, 3, 1};
    private static final long[] TO_FIRST = {0, 3, 1, 2};

    /** A graph reading x [2, 3, 4, 5] (float) with the given outputs; nodes and initializers added by the test. */
    private static final class Graph {
        final ExportGraph g = new ExportGraph();
        final Map<String, INDArray> feeds = new HashMap<>();

        Graph(String... outputs) {
            g.inputs.add(input("x", DataType.FLOAT, 2, 3, 4, 5));
            feeds.put("x", Nd4j.rand(DataType.FLOAT, 2, 3, 4, 5).subi(0.5));
            for (String o : outputs) g.outputs.add(ValueInfoProto.newBuilder().setName(o).build());
        }

        Graph node(String op, List<String> inputs, List<String> outputs, AttributeProto... attrs) {
            NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(op + "_" + outputs.get(0))
                    .addAllInput(inputs).addAllOutput(outputs);
            for (AttributeProto a : attrs) b.addAttribute(a);
            g.nodes.add(b.build());
            return this;
        }

        Graph node(String op, String in, String out, AttributeProto... attrs) {
            return node(op, List.of(in), List.of(out), attrs);
        }

        Graph transpose(String in, String out, long[] perm) {
            return node("Transpose", in, out, ints("perm", perm));
        }

        Graph constant(String name, INDArray value, boolean weight) {
            g.initializers.put(name, OnnxTensors.toProto(name, value));
            if (weight) g.weights.add(name);
            return this;
        }

        Graph longs(String name, long... values) {
            return constant(name, Nd4j.createFromArray(values), false);
        }

        ModelProto model(int opset) {
            GraphProto.Builder b = GraphProto.newBuilder().setName("t").addAllNode(g.nodes)
                    .addAllInitializer(g.initializers.values()).addAllInput(g.inputs).addAllOutput(g.outputs);
            return ModelProto.newBuilder().setIrVersion(OnnxExporter.irVersion(opset)).setGraph(b)
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build();
        }

        Map<String, INDArray> run(int opset) {
            List<String> outs = g.outputs.stream().map(ValueInfoProto::getName).toList();
            try (OrtRunner ort = new OrtRunner(model(opset).toByteArray(), "transpose push test")) {
                return ort.run(feeds, outs);
            }
        }

        /** Runs the pass (and dead node removal) and checks ONNX Runtime's outputs did not change; returns the graph. */
        ExportGraph pushed(int opset) {
            Map<String, INDArray> before = run(opset);
            new TransposePushPass().run(g);
            new DeadNodePass().run(g);
            new TopologicalSortPass().run(g);
            Map<String, INDArray> after = run(opset);
            before.forEach((name, value) -> {
                assertArrayEquals(value.shape(), after.get(name).shape(), name + ": " + ops(g));
                Agreement a = Agreement.of(after.get(name).castTo(DataType.DOUBLE), value.castTo(DataType.DOUBLE), 1e-6, 0);
                assertTrue(a.within(), name + ": " + a + " " + ops(g));
            });
            return g;
        }
    }

    private static ValueInfoProto input(String name, DataType type, long... shape) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : shape) s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.toOnnx(type)).setShape(s))).build();
    }

    private static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static List<String> ops(ExportGraph g) {
        return g.nodes.stream().map(NodeProto::getOpType).toList();
    }

    private static int transposes(ExportGraph g) {
        return TransposePushPass.transposeCount(g);
    }

    @Test
    void unaryChainCancels() {
        Graph t = new Graph("y").transpose("x", "t", TO_LAST).node("Relu", "t", "r").node("Sigmoid", "r", "s")
                .transpose("s", "y", TO_FIRST);
        ExportGraph g = t.pushed(17);
        assertEquals(List.of("Relu", "Sigmoid"), ops(g));
    }

    @Test
    void channelBiasBecomesAnUnsqueezeAndAConstantIsTransposedHere() {
        Graph t = new Graph("y").transpose("x", "t", TO_LAST)
                .constant("bias", Nd4j.rand(DataType.FLOAT, 3), true)                     // a weight: Unsqueeze node
                .constant("scale", Nd4j.rand(DataType.FLOAT, 4, 5, 3), false)             // a constant: transposed now
                .node("Add", List.of("t", "bias"), List.of("a"))
                .node("Mul", List.of("scale", "a"), List.of("m"))
                .transpose("m", "y", TO_FIRST);
        ExportGraph g = t.pushed(17);
        assertEquals(0, transposes(g), ops(g).toString());
        NodeProto unsqueeze = g.nodes.stream().filter(n -> n.getOpType().equals("Unsqueeze")).findFirst().orElseThrow();
        assertEquals("bias", unsqueeze.getInput(0));
        assertArrayEquals(new long[]{1, 2}, ConvWeightLayoutPass.longs(g.initializers.get(unsqueeze.getInput(1))), "[C] -> [C, 1, 1]");
        NodeProto mul = g.nodes.stream().filter(n -> n.getOpType().equals("Mul")).findFirst().orElseThrow();
        assertEquals(List.of(1L, 3L, 4L, 5L), g.initializers.get(mul.getInput(0)).getDimsList(), "[4, 5, 3] as NCHW");
    }

    @Test
    void operandComputedAtRunTimeFromTheSameTranspose() {
        // Add(T(x), Neg(T(x))) (Swish-like x * f(x) after a convolution): pushing T(x) below both readers needs a
        // Transpose of Neg's result for the Add for a moment; it cancels with the one Neg gets.
        Graph t = new Graph("y").transpose("x", "t", TO_LAST).node("Neg", "t", "z")
                .node("Add", List.of("t", "z"), List.of("a")).transpose("a", "y", TO_FIRST);
        ExportGraph g = t.pushed(17);
        assertEquals(0, transposes(g), "T(x) moves below Neg and Add: " + ops(g));
    }

    @Test
    void operandOfFullRankWithoutATransposeStopsThePush() {
        // Add(T(x), w) with w a run-time NHWC value of its own (here another input): bringing it to x's layout
        // takes a Transpose the graph does not have, and nothing cancels it.
        Graph t = new Graph("y").transpose("x", "t", TO_LAST).node("Add", List.of("t", "w"), List.of("a"))
                .transpose("a", "y", TO_FIRST);
        t.g.inputs.add(input("w", DataType.FLOAT, 2, 4, 5, 3));
        t.feeds.put("w", Nd4j.rand(DataType.FLOAT, 2, 4, 5, 3));
        ExportGraph g = t.pushed(17);
        assertEquals(List.of("Transpose", "Add", "Transpose"), ops(g));
    }

    @Test
    void concatSplitAndSliceRemapTheirAxes() {
        Graph t = new Graph("y0", "y1").transpose("x", "t", TO_LAST)
                .constant("c", Nd4j.rand(DataType.FLOAT, 2, 4, 5, 2), false)
                .node("Concat", List.of("t", "c", "t"), List.of("cat"), intAttr("axis", 3))
                .longs("starts", 1).longs("ends", 4).longs("axes", -2)
                .node("Slice", List.of("cat", "starts", "ends", "axes"), List.of("sl"))
                .longs("split", 5, 3)
                .node("Split", List.of("sl", "split"), List.of("s0", "s1"), intAttr("axis", 3))
                .transpose("s0", "y0", TO_FIRST).transpose("s1", "y1", TO_FIRST);
        ExportGraph g = t.pushed(17);
        assertEquals(0, transposes(g), ops(g).toString());
    }

    @Test
    void sliceWithoutAxesAndPad() {
        Graph t = new Graph("y").transpose("x", "t", TO_LAST)
                .longs("starts", 0, 1).longs("ends", 2, 3)
                .node("Slice", List.of("t", "starts", "ends"), List.of("sl"))
                .longs("pads", 0, 1, 2, 0, 0, 2, 1, 0)
                .node("Pad", List.of("sl", "pads"), List.of("p"))
                .transpose("p", "y", TO_FIRST);
        ExportGraph g = t.pushed(17);
        assertEquals(List.of("Slice", "Pad"), ops(g));
    }

    @Test
    void globalPoolingAndArgMaxOverChannelsNeedNoTranspose() {
        // Over H and W without keepdims: [N, C]; ArgMax over C without keepdims: [N, H, W]; both as they are.
        Graph t = new Graph("pooled", "arg").transpose("x", "t", TO_LAST).longs("hw", 1, 2)
                .node("ReduceMean", List.of("t", "hw"), List.of("pooled"), intAttr("keepdims", 0))
                .node("ArgMax", "t", "arg", intAttr("axis", 3), intAttr("keepdims", 0));
        ExportGraph g = t.pushed(18);
        assertEquals(List.of("ReduceMean", "ArgMax"), ops(g));
        NodeProto mean = g.nodes.get(0);
        assertArrayEquals(new long[]{2, 3}, ConvWeightLayoutPass.longs(g.initializers.get(mean.getInput(1))));
    }

    @Test
    void reductionsKeepingAxesInAnotherOrderEndInATranspose() {
        // ReduceSum over H without keepdims: [N, W, C] from [N, C, W], by perm [0, 2, 1]; ReduceMax with keepdims
        // (axes as an attribute, opset 13): the NHWC Transpose follows it.
        Graph t = new Graph("rows").transpose("x", "t", TO_LAST).longs("h", 1)
                .node("ReduceSum", List.of("t", "h"), List.of("rows"), intAttr("keepdims", 0));
        assertEquals(List.of("ReduceSum", "Transpose"), ops(t.pushed(13)));
        assertArrayEquals(new long[]{0, 2, 1}, TransposePushPass.perm(t.g.nodes.get(1)));
        Graph k = new Graph("kept").transpose("x", "t", TO_LAST)
                .node("ReduceMax", "t", "kept", ints("axes", 1, 2));
        assertEquals(List.of("ReduceMax", "Transpose"), ops(k.pushed(13)));
    }

    @Test
    void globalPoolingWithKeepdimsThenSqueeze() {
        // TensorFlow's spatial squeeze: mean over H, W kept as [N, 1, 1, C], then Squeeze(1, 2): [N, C], no Transpose.
        Graph t = new Graph("y").transpose("x", "t", TO_LAST).longs("hw", 1, 2).longs("sq", -3, 2)
                .node("ReduceMean", List.of("t", "hw"), List.of("m"))
                .node("Squeeze", List.of("m", "sq"), List.of("y"));
        ExportGraph g = t.pushed(18);
        assertEquals(List.of("ReduceMean", "Squeeze"), ops(g));
    }

    @Test
    void readersThatWouldEachNeedATransposeLeaveItWhereItIs() {
        // Two NHWC reductions as outputs: one Transpose in front of them beats one behind each.
        Graph t = new Graph("rows", "kept").transpose("x", "t", TO_LAST).longs("h", 1)
                .node("ReduceSum", List.of("t", "h"), List.of("rows"), intAttr("keepdims", 0))
                .node("ReduceMax", "t", "kept", ints("axes", 1, 2));
        assertEquals(List.of("Transpose", "ReduceSum", "ReduceMax"), ops(t.pushed(13)));
    }

    @Test
    void shapeIsGatheredInTheTransposedOrder() {
        Graph t = new Graph("y", "s").transpose("x", "t", TO_LAST).node("Shape", "t", "s").node("Relu", "t", "r")
                .transpose("r", "y", TO_FIRST);
        ExportGraph g = t.pushed(17);
        assertEquals(0, transposes(g), ops(g).toString());
        assertTrue(ops(g).contains("Gather"));
    }

    @Test
    void aBranchIsPushedOnlyWhenTheTransposesCancelFurtherDown() {
        // Both branches end in a Transpose back: pushing through the branch pays off.
        Graph good = new Graph("y", "z").transpose("x", "t", TO_LAST)
                .node("Relu", "t", "a").node("Tanh", "t", "b")
                .transpose("a", "y", TO_FIRST).transpose("b", "z", TO_FIRST);
        assertEquals(0, transposes(good.pushed(17)));
        // One branch ends in an NHWC output: T(x) stays where it is (pushing would leave two).
        Graph bad = new Graph("y", "z").transpose("x", "t", TO_LAST)
                .node("Relu", "t", "a").node("Tanh", "t", "z")
                .transpose("a", "y", TO_FIRST);
        ExportGraph g = bad.pushed(17);
        assertEquals(2, transposes(g), ops(g).toString());
    }

    @Test
    void layoutSensitiveReadersAndGraphOutputsStopATranspose() {
        Graph t = new Graph("t", "y").transpose("x", "t", TO_LAST).node("Relu", "t", "r")
                .transpose("r", "y", TO_FIRST);
        assertEquals(2, transposes(t.pushed(17)), "T(x) is an output itself");
        Graph s = new Graph("y").transpose("x", "t", TO_LAST)
                .node("Softmax", "t", "s", intAttr("axis", 3)).transpose("s", "y", TO_FIRST);
        ExportGraph g = s.pushed(17);
        assertEquals(List.of("Transpose", "Softmax", "Transpose"), ops(g));
    }

    @Test
    void identicalTransposesAreMerged() {
        Graph t = new Graph("y").transpose("x", "t1", TO_LAST).transpose("x", "t2", TO_LAST)
                .node("Sub", List.of("t1", "t2"), List.of("m")).node("Softmax", "m", "y", intAttr("axis", 3));
        ExportGraph g = t.pushed(17);
        assertEquals(List.of("Sub", "Transpose", "Softmax"), ops(g));
        assertEquals(List.of("x", "x"), g.nodes.get(0).getInputList());
    }
}
