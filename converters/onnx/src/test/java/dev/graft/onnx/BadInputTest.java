package dev.graft.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.cli.CliRun;
import dev.graft.cli.GraftCli;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bad files must give exit code 2 and a one-line message naming the file and the node or field, without
 * crashing the JVM or exhausting memory. Each case goes through the CLI as a user would meet it.
 */
class BadInputTest {

    @TempDir
    Path dir;

    private static void assertBadInput(CliRun o, String... fragments) {
        assertEquals(GraftCli.BAD_INPUT, o.code(), "exit code; stderr was: " + o.err());
        for (String f : fragments) {
            assertTrue(o.err().contains(f), "stderr should mention '" + f + "' but was: " + o.err());
        }
    }

    @Test
    void truncatedFile() throws Exception {
        byte[] whole = Files.readAllBytes(Path.of("tests-resources/models/resnet_small/model.onnx"));
        Path cut = dir.resolve("truncated.onnx");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length / 2));
        assertBadInput(CliRun.of("inspect", cut.toString()), cut.toString(), "not a valid ONNX model");
    }

    @Test
    void fileThatIsNotOnnx() throws Exception {
        Path text = dir.resolve("notes.onnx");
        Files.writeString(text, "these are not the weights you are looking for\n");
        assertBadInput(CliRun.of("inspect", text.toString()), text.toString());
    }

    @Test
    void missingFile() {
        assertBadInput(CliRun.of("inspect", dir.resolve("absent.onnx").toString()), "absent.onnx", "no such file");
    }

    @Test
    void tensorDataSizeDisagreesWithDims() throws Exception {
        TensorProto w = TensorProto.newBuilder().setName("W").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(2).addDims(3).setRawData(ByteString.copyFrom(new byte[8])).build();
        Path f = OnnxModels.write(OnnxModels.model(OnnxModels.addGraph(w).build(), 13), dir.resolve("size.onnx"));
        assertBadInput(CliRun.of("inspect", f.toString()), f.toString(), "initializer 'W'", "8 bytes", "[2, 3]");
    }

    @Test
    void negativeDims() throws Exception {
        TensorProto w = OnnxModels.floats("W", new long[]{-1, 3}, 1, 2, 3);
        Path f = OnnxModels.write(OnnxModels.model(OnnxModels.addGraph(w).build(), 13), dir.resolve("neg.onnx"));
        assertBadInput(CliRun.of("inspect", f.toString()), f.toString(), "initializer 'W'", "negative dimension");
    }

    @Test
    void dimsThatOverflow() throws Exception {
        TensorProto w = TensorProto.newBuilder().setName("W").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(1L << 40).addDims(1L << 40).setRawData(ByteString.copyFrom(new byte[12])).build();
        Path f = OnnxModels.write(OnnxModels.model(OnnxModels.addGraph(w).build(), 13), dir.resolve("big.onnx"));
        assertBadInput(CliRun.of("inspect", f.toString()), f.toString(), "initializer 'W'", "overflow");
        TensorProto huge = TensorProto.newBuilder().setName("W").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(1L << 20).addDims(1L << 20).setRawData(ByteString.copyFrom(new byte[12])).build();
        Path g = OnnxModels.write(OnnxModels.model(OnnxModels.addGraph(huge).build(), 13), dir.resolve("huge.onnx"));
        assertBadInput(CliRun.of("inspect", g.toString()), g.toString(), "initializer 'W'");
    }

    private static TensorProto external(String location, long offset, long length) {
        TensorProto.Builder b = TensorProto.newBuilder().setName("W").setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addDims(3).setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location));
        if (offset >= 0) b.addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset)));
        if (length >= 0) b.addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(length)));
        return b.build();
    }

    private static byte[] floatsLittleEndian(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    @Test
    void externalDataIsResolvedNextToTheModel() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("ext"));
        byte[] payload = new byte[16 + 12];
        System.arraycopy(floatsLittleEndian(1.5f, -2f, 4f), 0, payload, 16, 12);
        Files.write(folder.resolve("weights.bin"), payload);
        Path f = OnnxModels.write(OnnxModels.model(OnnxModels.addGraph(external("weights.bin", 16, 12)).build(), 13),
                folder.resolve("model.onnx"));
        GraftModel m = Graft.load(f);
        var y = m.run(Map.of("x", Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3)), List.of()).get("y");
        assertArrayEquals(new float[]{1.5f, -2f, 4f, 1.5f, -2f, 4f}, y.data().asFloat());
    }

    @Test
    void externalDataOutsideTheModelFolderIsRefused() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("model"));
        Files.write(dir.resolve("secret.bin"), floatsLittleEndian(1, 2, 3));
        Path f = OnnxModels.write(OnnxModels.model(OnnxModels.addGraph(external("../secret.bin", -1, -1)).build(), 13),
                folder.resolve("model.onnx"));
        assertBadInput(CliRun.of("inspect", f.toString()), f.toString(), "initializer 'W'", "escapes the model's folder");

        Path abs = OnnxModels.write(OnnxModels.model(OnnxModels.addGraph(
                external(dir.resolve("secret.bin").toString(), -1, -1)).build(), 13), folder.resolve("abs.onnx"));
        assertBadInput(CliRun.of("inspect", abs.toString()), "absolute path");

        Files.createSymbolicLink(folder.resolve("link.bin"), dir.resolve("secret.bin"));
        Path link = OnnxModels.write(OnnxModels.model(OnnxModels.addGraph(external("link.bin", -1, -1)).build(), 13),
                folder.resolve("link.onnx"));
        assertBadInput(CliRun.of("inspect", link.toString()), "links outside");
    }

    @Test
    void externalDataRangeBeyondTheFile() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("range"));
        Files.write(folder.resolve("w.bin"), floatsLittleEndian(1, 2, 3));
        Path f = OnnxModels.write(OnnxModels.model(OnnxModels.addGraph(external("w.bin", 8, 12)).build(), 13),
                folder.resolve("model.onnx"));
        assertBadInput(CliRun.of("inspect", f.toString()), "exceeds 'w.bin'");
    }

    @Test
    void graphWithACycle() throws Exception {
        GraphProto g = GraphProto.newBuilder().setName("cycle")
                .addInput(OnnxModels.floatInput("x", 1, 3))
                .addNode(OnnxModels.node("first", "Add", new String[]{"x", "b"}, new String[]{"a"}))
                .addNode(OnnxModels.node("second", "Relu", new String[]{"a"}, new String[]{"b"}))
                .addOutput(OnnxModels.floatInput("b", 1, 3)).build();
        Path f = OnnxModels.write(OnnxModels.model(g, 13), dir.resolve("cycle.onnx"));
        assertBadInput(CliRun.of("inspect", f.toString()), f.toString(), "cycle", "first", "second");
    }

    @Test
    void danglingInput() throws Exception {
        GraphProto g = GraphProto.newBuilder().setName("dangling")
                .addInput(OnnxModels.floatInput("x", 1, 3))
                .addNode(OnnxModels.node("adder", "Add", new String[]{"x", "nowhere"}, new String[]{"y"}))
                .addOutput(OnnxModels.floatInput("y", 1, 3)).build();
        Path f = OnnxModels.write(OnnxModels.model(g, 13), dir.resolve("dangling.onnx"));
        assertBadInput(CliRun.of("inspect", f.toString()), f.toString(), "Node 'adder'", "'nowhere'", "dangling");
    }

    @Test
    void everyUnsupportedOpIsListedAtOnce() throws Exception {
        GraphProto g = GraphProto.newBuilder().setName("exotic")
                .addInput(OnnxModels.floatInput("x", 1, 3))
                .addNode(OnnxModels.node("f1", "FooOp", new String[]{"x"}, new String[]{"a"}))
                .addNode(OnnxModels.node("r", "Relu", new String[]{"a"}, new String[]{"b"}))
                .addNode(OnnxModels.node("f2", "FooOp", new String[]{"b"}, new String[]{"c"}))
                .addNode(OnnxModels.node("q", "BarOp", new String[]{"c"}, new String[]{"y"}))
                .addOutput(OnnxModels.floatInput("y", 1, 3)).build();
        Path f = OnnxModels.write(OnnxModels.model(g, 13), dir.resolve("exotic.onnx"));
        CliRun o = CliRun.of("run", f.toString(), "--output-dir", dir.resolve("out").toString());
        assertBadInput(o, "2 unsupported op types", "FooOp (domain 'ai.onnx', opset 13): 2 nodes, first 'f1'",
                "BarOp (domain 'ai.onnx', opset 13): 1 node, first 'q'");
        assertTrue(Files.notExists(dir.resolve("out")), "nothing may be written for a model that does not import");
    }

    /** A shape input asking for 10^13 elements must be refused by name, not crash ND4J's native allocator. */
    @Test
    void hugeCreatedTensorIsRefused() throws Exception {
        TensorProto shape = TensorProto.newBuilder().setName("shape").setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(3).addInt64Data(100_000).addInt64Data(100_000).addInt64Data(1000).build();
        GraphProto g = GraphProto.newBuilder().setName("huge")
                .addInput(OnnxModels.floatInput("x", 1, 3))
                .addInitializer(shape)
                .addNode(OnnxModels.node("fill_huge", "ConstantOfShape", new String[]{"shape"}, new String[]{"big"}))
                .addNode(OnnxModels.node("add", "Add", new String[]{"x", "big"}, new String[]{"y"}))
                .addOutput(OnnxModels.floatInput("y", 1, 3)).build();
        Path f = OnnxModels.write(OnnxModels.model(g, 13), dir.resolve("huge.onnx"));
        assertBadInput(CliRun.of("inspect", f.toString()), "Node 'fill_huge' (ConstantOfShape, opset 13)", "10000000000000 elements");
    }

    /** Shapes that do not fit together are found when the graph runs; the message names the ONNX node. */
    @Test
    void runTimeFailureNamesTheNode() throws Exception {
        float[] w = new float[4 * 5 * 3 * 3];
        GraphProto g = GraphProto.newBuilder().setName("conv")
                .addInput(OnnxModels.floatInput("x", "N", 3, 8, 8))
                .addInitializer(OnnxModels.floats("W", new long[]{4, 5, 3, 3}, w))
                .addNode(OnnxModels.node("conv1", "Conv", new String[]{"x", "W"}, new String[]{"y"}))
                .addOutput(OnnxModels.floatInput("y", "N", 4, 6, 6)).build();
        Path f = OnnxModels.write(OnnxModels.model(g, 13), dir.resolve("conv.onnx"));
        Path x = dir.resolve("x.npy");
        dev.graft.io.Npy.write(Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 3, 8, 8), x);
        CliRun o = CliRun.of("run", f.toString(), "--input", "x=" + x, "--output-dir", dir.resolve("out").toString());
        assertBadInput(o, "Node 'conv1' (Conv, opset 13) failed at run time on inputs x [2, 3, 8, 8]");
        assertTrue(Files.notExists(dir.resolve("out")));
    }

    @Test
    void invalidPermutationIsRefused() throws Exception {
        ai.onnx.proto.OnnxMl.NodeProto transpose = OnnxModels.node("tr", "Transpose", new String[]{"x"}, new String[]{"y"})
                .toBuilder().addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("perm")
                        .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INTS)
                        .addInts(0).addInts(1).addInts(5).addInts(2)).build();
        GraphProto g = GraphProto.newBuilder().setName("tr").addInput(OnnxModels.floatInput("x", 1, 3, 8, 8))
                .addNode(transpose).addOutput(OnnxModels.floatInput("y", 1, 3, 8, 8)).build();
        Path f = OnnxModels.write(OnnxModels.model(g, 13), dir.resolve("tr.onnx"));
        assertBadInput(CliRun.of("inspect", f.toString()), "Node 'tr' (Transpose, opset 13): perm [0, 1, 5, 2] is not a permutation");
    }

    @Test
    void wrongAttributeTypeNamesTheNode() throws Exception {
        ai.onnx.proto.OnnxMl.NodeProto gemm = OnnxModels.node("fc1", "Gemm", new String[]{"x", "W"}, new String[]{"y"})
                .toBuilder().addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName("transB")
                        .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.FLOATS).addFloats(1f)).build();
        GraphProto g = GraphProto.newBuilder().setName("gemm")
                .addInput(OnnxModels.floatInput("x", 1, 3))
                .addInitializer(OnnxModels.floats("W", new long[]{3, 3}, 1, 0, 0, 0, 1, 0, 0, 0, 1))
                .addNode(gemm).addOutput(OnnxModels.floatInput("y", 1, 3)).build();
        Path f = OnnxModels.write(OnnxModels.model(g, 13), dir.resolve("gemm.onnx"));
        assertBadInput(CliRun.of("inspect", f.toString()), "Node 'fc1' (Gemm, opset 13): attribute 'transB' expected INT, found FLOATS");
    }
}
