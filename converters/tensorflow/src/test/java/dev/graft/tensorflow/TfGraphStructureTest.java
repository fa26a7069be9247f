package dev.graft.tensorflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.LoadOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.Output;
import org.tensorflow.Signature;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;

/**
 * Graph-level import: pruning to the outputs, constant Switch/Merge (dropout keyed on a training flag),
 * function calls inlined, and the errors for graphs graft cannot take, each naming file and node.
 */
class TfGraphStructureTest {
    @TempDir
    Path dir;

    private static final DataType F = DataType.DT_FLOAT;

    /** tf.cond-style dropout: Switch on PlaceholderWithDefault(false), the true branch random, Merge. */
    private static void dropoutGraph(TfGraphBuilder b) {
        Output<?> x = b.placeholder("x", F, -1, 5);
        Output<?> h = b.op("MatMul", "dense", x, b.constant("dense/kernel", TfOpsTest.rand(1, 5, 4))).build().output(0);
        Output<?> training = b.op("PlaceholderWithDefault", "training", b.constant("training/default", Nd4j.scalar(false)))
                .setAttr("dtype", DataType.DT_BOOL).setAttr("shape", org.tensorflow.ndarray.Shape.scalar()).build().output(0);
        var sw = b.op("Switch", "dropout/switch", h, training).build();
        Output<?> noise = b.op("RandomUniform", "dropout/noise", b.constant("dropout/shape", Nd4j.createFromArray(2, 4)))
                .setAttr("dtype", F).build().output(0);
        Output<?> dropped = b.op("Mul", "dropout/mul", sw.output(1), noise).build().output(0);
        Output<?> kept = b.op("Identity", "dropout/identity", sw.output(0)).build().output(0);
        Output<?> merged = b.listOp("Merge", "dropout/merge", new Output<?>[]{kept, dropped}).build().output(0);
        b.op("Relu", "out", merged).build();
        // Training leftovers beside the inference path: an op graft has no converter for, never visited.
        b.op("Unique", "unused/unique", b.constant("unused/values", Nd4j.createFromArray(1, 2, 2))).build();
    }

    @Test
    void constantSwitchMergeKeepsTheTakenBranchOnly() throws Exception {
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            dropoutGraph(b);
            Path pb = b.save(dir, "dropout.pb");
            GraftModel m = Graft.load(pb, LoadOptions.defaults().withOutputs(List.of("out")));
            INDArray x = TfOpsTest.rand(5, 2, 5);
            INDArray expected = b.run(Map.of("x", x), List.of("out:0")).get("out:0");
            TfOpsTest.assertClose(expected, m.run(Map.of("x", x), List.of("out")).get("out"), "out");
            assertEquals(List.of("x"), m.inputNames(), "the training flag keeps its default and is no input");
            assertTrue(m.sourceNodes().stream().noneMatch(n -> n.opType().equals("RandomUniform")), "the dropout branch is pruned");
        }
    }

    @Test
    void sinksAreTheDefaultOutputs() throws Exception {
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            Output<?> x = b.placeholder("x", F, -1, 3);
            Output<?> y = b.op("Tanh", "hidden", x).build().output(0);
            b.op("Sigmoid", "score", y).build();
            b.op("Square", "energy", y).build();
            GraftModel m = Graft.load(b.save(dir, "two_sinks.pb"));
            assertEquals(List.of("score", "energy"), m.outputNames());
            GraftModel one = Graft.load(b.save(dir, "two_sinks.pb"), LoadOptions.defaults().withOutputs(List.of("hidden:0")));
            assertEquals(List.of("hidden"), one.outputNames(), "an output named by tensor 'hidden:0' is called 'hidden'");
        }
    }

    @Test
    void functionCallsAreInlined() throws Exception {
        // A function that itself calls another function, called from the graph (as TF 2.x SavedModels are built).
        try (ConcreteFunction inner = ConcreteFunction.create(tf -> {
                 var a = tf.placeholder(TFloat32.class);
                 return Signature.builder().input("a", a).output("b", tf.math.tanh(tf.math.mul(a, tf.constant(2f)))).build();
             });
             ConcreteFunction outer = ConcreteFunction.create(tf -> {
                 var a = tf.placeholder(TFloat32.class);
                 var t = inner.call(tf, a);
                 return Signature.builder().input("a", a).output("b", tf.math.add(t.asOutput().expect(TFloat32.class), tf.constant(1f))).build();
             });
             Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            var x = tf.withName("x").placeholder(TFloat32.class, org.tensorflow.op.core.Placeholder.shape(org.tensorflow.ndarray.Shape.of(-1, 3)));
            var y = outer.call(tf, x);
            tf.withName("out").math.sigmoid(y.asOutput().expect(TFloat32.class));
            GraphDef gd = g.toGraphDef();
            assertTrue(gd.getLibrary().getFunctionCount() >= 2, "the graph holds both functions in its library");
            assertTrue(gd.getNodeList().stream().anyMatch(n -> n.getOp().endsWith("PartitionedCall")), "and calls one");
            Path pb = dir.resolve("functions.pb");
            Files.write(pb, gd.toByteArray());
            GraftModel m = Graft.load(pb, LoadOptions.defaults().withOutputs(List.of("out")));
            INDArray in = TfOpsTest.rand(3, 4, 3);
            INDArray expected = Transforms.sigmoid(Transforms.tanh(in.mul(2)).add(1)); // sigmoid(tanh(2x) + 1), by hand
            TfOpsTest.assertClose(expected, m.run(Map.of("x", in), List.of("out")).get("out"), "out");
        }
    }

    @Test
    void unsupportedOpsAreListedTogether() throws Exception {
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            Output<?> x = b.placeholder("x", F, -1, 3);
            Output<?> c = b.op("Cumsum", "cumsum", x, b.constant("axis", Nd4j.scalar(1))).build().output(0);
            Output<?> s = b.op("Sinh", "sinh1", c).build().output(0);
            b.op("Sinh", "sinh2", s).build();
            GraftException e = assertThrows(GraftException.class, () -> Graft.load(b.save(dir, "unsupported.pb")));
            assertTrue(e.getMessage().contains("unsupported.pb"), e.getMessage());
            assertTrue(e.getMessage().contains("Cumsum (1 node, first 'cumsum')"), e.getMessage());
            assertTrue(e.getMessage().contains("Sinh (2 nodes, first 'sinh1')"), e.getMessage());
        }
    }

    @Test
    void badFilesNameTheFileAndTheNode() throws Exception {
        // A node reading a tensor no node produces.
        GraphDef missing = GraphDef.newBuilder()
                .addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder")
                        .putAttr("dtype", org.tensorflow.proto.AttrValue.newBuilder().setType(F).build()))
                .addNode(NodeDef.newBuilder().setName("y").setOp("AddV2").addInput("x").addInput("bias/read:0"))
                .build();
        Path pb = dir.resolve("missing_input.pb");
        Files.write(pb, missing.toByteArray());
        GraftException e = assertThrows(GraftException.class, () -> Graft.load(pb));
        assertTrue(e.getMessage().contains("missing_input.pb") && e.getMessage().contains("'y'")
                && e.getMessage().contains("bias/read"), e.getMessage());
        Path out = dir.resolve("out.onnx");
        dev.graft.cli.CliRun cli = dev.graft.cli.CliRun.of("convert", pb.toString(), out.toString());
        assertEquals(2, cli.code(), "exit code 2 for bad input: " + cli.out() + cli.err());
        assertTrue(cli.err().contains("missing_input.pb") && cli.err().contains("'y'"), cli.err());
        assertFalse(Files.exists(out), "no partial output");

        // A truncated file.
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            b.op("Relu", "r", b.placeholder("x", F, -1, 8)).build();
            b.constant("big", TfOpsTest.rand(1, 64, 64));
            byte[] bytes = b.graph.toGraphDef().toByteArray();
            Path cut = dir.resolve("truncated.pb");
            Files.write(cut, Arrays.copyOf(bytes, bytes.length - 100));
            GraftException t = assertThrows(GraftException.class, () -> Graft.load(cut));
            assertTrue(t.getMessage().contains("truncated.pb") && t.getMessage().contains("truncated or corrupt"), t.getMessage());
            dev.graft.cli.CliRun cli2 = dev.graft.cli.CliRun.of("inspect", cut.toString());
            assertEquals(2, cli2.code(), cli2.out() + cli2.err());
            assertTrue(cli2.err().contains("truncated.pb"), cli2.err());
        }

        // A directory that is not a SavedModel.
        Path notSaved = Files.createDirectories(dir.resolve("not_a_savedmodel"));
        Files.writeString(notSaved.resolve("README.txt"), "hello");
        GraftException d = assertThrows(GraftException.class, () -> Graft.load(notSaved));
        assertTrue(d.getMessage().contains("not_a_savedmodel") && d.getMessage().contains("not a TensorFlow SavedModel"), d.getMessage());

        // An ONNX file renamed .pb is not mistaken for a graph.
        Path onnxAsPb = dir.resolve("model.pb");
        Files.copy(Path.of("tests-resources/models/resnet_small/model.onnx"), onnxAsPb);
        GraftException o = assertThrows(GraftException.class, () -> Graft.load(onnxAsPb));
        assertTrue(o.getMessage().contains("model.pb"), o.getMessage());
        assertFalse(o.getMessage().contains("internal error"), o.getMessage());
    }
}
