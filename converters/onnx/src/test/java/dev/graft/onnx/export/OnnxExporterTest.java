package dev.graft.onnx.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Graft;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.io.Npy;
import dev.graft.onnx.OnnxModelReader;
import dev.graft.onnx.OnnxTensors;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Export of the PyTorch-made fixtures (tests-resources/models) and of hand-built graphs: ONNX Runtime on the
 * export reproduces PyTorch's reference outputs, the file is lean and valid, and failures write nothing.
 * Exported fixtures are kept in target/exported-models for ONNX's checker, which .ci/run applies.
 */
class OnnxExporterTest {

    static final Path MODELS = Path.of("tests-resources/models");
    static final Path EXPORTED = Path.of("target/exported-models");
    /** As in RealModelsTest: float32 sums reordered between PyTorch and ONNX Runtime move outputs by ~1e-5. */
    static final double ATOL = 1e-4;

    @TempDir
    Path dir;

    static JsonNode manifest() throws Exception {
        return new ObjectMapper().readTree(MODELS.resolve("manifest.json").toFile());
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet_small", "mobilenet_v2", "squeezenet", "mlp_layernorm_gelu", "transformer_encoder",
            "deep_mlp_500"})
    void exportedFixtureMatchesPyTorchAndIsLean(String name) throws Exception {
        Path source = MODELS.resolve(name).resolve("model.onnx");
        GraftModel model = Graft.load(source);
        Path out = EXPORTED.resolve(name + ".onnx");
        OnnxExporter.Result result = model.exportOnnx(out);
        ModelProto exported = OnnxModelReader.of(out).read();

        try (OrtRunner ort = new OrtRunner(out)) {
            for (int batch : new int[]{1, 3}) {
                INDArray x = Npy.read(MODELS.resolve(name).resolve("input_b" + batch + ".npy"));
                INDArray expected = Npy.read(MODELS.resolve(name).resolve("output_b" + batch + ".npy"));
                INDArray y = ort.run(Map.of("input", x), List.of("output")).get("output");
                Agreement a = Agreement.of(y, expected, ATOL, 0);
                assertTrue(a.within(), name + " batch " + batch + " vs PyTorch: " + a);
            }
            // Batch stays dynamic: a batch the source was never run at works too, and equals SameDiff.
            long[] shape = Npy.read(MODELS.resolve(name).resolve("input_b1.npy")).shape();
            shape[0] = 7;
            Nd4j.getRandom().setSeed(11);
            INDArray x7 = Nd4j.rand(DataType.FLOAT, shape);
            Agreement a7 = Agreement.of(ort.run(Map.of("input", x7), List.of("output")).get("output"),
                    model.run(Map.of("input", x7), List.of()).get("output"), ATOL, 0);
            assertTrue(a7.within(), name + " batch 7 vs SameDiff: " + a7);
        }
        assertTrue(exported.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).hasDimParam(),
                "batch dim is symbolic in the export");

        int sourceNodes = manifest().get(name).get("nodes").asInt();
        int nodes = exported.getGraph().getNodeCount();
        assertTrue(nodes <= 1.25 * sourceNodes, name + ": " + nodes + " nodes exported for " + sourceNodes + " in the source");
        for (NodeProto n : exported.getGraph().getNodeList()) {
            assertFalse(n.getOpType().equals("Identity"), name + ": Identity left in the export: " + n.getName());
        }
        assertEquals(0, transposePairs(exported), name + ": transposes of transposes");
        System.out.printf("export %s: %d source nodes -> %d (%d written back, %d ops spelled out)%n", name, sourceNodes,
                nodes, result.sourceNodesKept(), result.opsSpelledOut());

        // Weights are the source's, bit for bit (nothing was trained), and keep their names.
        Map<String, TensorProto> sourceInits = new HashMap<>();
        OnnxModelReader.of(source).read().getGraph().getInitializerList().forEach(t -> sourceInits.put(t.getName(), t));
        int compared = 0;
        for (TensorProto t : exported.getGraph().getInitializerList()) {
            TensorProto s = sourceInits.get(t.getName());
            if (s == null || !model.parameterNames().contains(t.getName())) continue;
            assertEquals(OnnxTensors.toArray(s, null, "source"), OnnxTensors.toArray(t, null, "export"), t.getName());
            compared++;
        }
        assertTrue(compared > 0, "no weight compared");

        Map<String, String> meta = new HashMap<>();
        for (StringStringEntryProto e : exported.getMetadataPropsList()) meta.put(e.getKey(), e.getValue());
        assertEquals(Graft.VERSION, meta.get("graft.version"));
        assertEquals("model.onnx", meta.get("graft.source.file"));
        // The generator script recorded the file's sha256 when it wrote it (independent of graft's code).
        assertEquals(manifest().get(name).get("sha256").asText(), meta.get("graft.source.sha256"));
        assertFalse(exported.getGraph().getDocString().isEmpty());
        assertEquals("graft", exported.getProducerName());
    }

    /**
     * The same fixtures with every SameDiff op spelled out by its exporter (what a fine-tuned graph whose
     * nodes changed goes through): still PyTorch's numbers. Node counts are printed, not bounded: the
     * importer's expansions (BatchNormalization as scale and shift, ...) come back as several nodes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"resnet_small", "mobilenet_v2", "squeezenet", "mlp_layernorm_gelu", "transformer_encoder",
            "deep_mlp_500"})
    void spelledOutFixtureMatchesPyTorch(String name) throws Exception {
        GraftModel model = Graft.load(MODELS.resolve(name).resolve("model.onnx"));
        Path out = EXPORTED.resolve("spelled-out").resolve(name + ".onnx");
        OnnxExporter.Result result = model.exportOnnx(out, OnnxExporter.Options.defaults().withSourceNodes(false));
        assertEquals(0, result.sourceNodesKept());
        try (OrtRunner ort = new OrtRunner(out)) {
            for (int batch : new int[]{1, 3}) {
                INDArray x = Npy.read(MODELS.resolve(name).resolve("input_b" + batch + ".npy"));
                INDArray expected = Npy.read(MODELS.resolve(name).resolve("output_b" + batch + ".npy"));
                Agreement a = Agreement.of(ort.run(Map.of("input", x), List.of("output")).get("output"), expected, ATOL, 0);
                assertTrue(a.within(), name + " batch " + batch + " vs PyTorch: " + a);
            }
        }
        ModelProto m = result.model();
        assertEquals(0, transposePairs(m), name + ": transposes of transposes");
        assertTrue(m.getGraph().getNodeList().stream().noneMatch(n -> n.getOpType().equals("Identity")), name + ": Identity left");
        System.out.printf("spelled out %s: %d source nodes -> %d nodes from %d SameDiff ops%n", name,
                model.source().nodeCount(), m.getGraph().getNodeCount(), result.opsSpelledOut());
    }

    /** Transpose nodes whose input is another Transpose's output (the pass must have merged them). */
    static int transposePairs(ModelProto m) {
        Map<String, NodeProto> producers = new HashMap<>();
        m.getGraph().getNodeList().forEach(n -> n.getOutputList().forEach(o -> producers.put(o, n)));
        int pairs = 0;
        for (NodeProto n : m.getGraph().getNodeList()) {
            NodeProto p = producers.get(n.getInput(0));
            if (n.getOpType().equals("Transpose") && p != null && p.getOpType().equals("Transpose")) pairs++;
        }
        return pairs;
    }

    /** --output on an inner tensor exports the trunk: one output of that name, nothing after it. */
    @Test
    void outputsSelectATrunk() throws Exception {
        Path source = MODELS.resolve("resnet_small").resolve("model.onnx");
        GraftModel model = Graft.load(source);
        String cut = "/Flatten_output_0";
        Path out = EXPORTED.resolve("cut").resolve("resnet_trunk.onnx");
        new OnnxExporter().write(model, out, OnnxExporter.Options.defaults().withOutputs(List.of(cut)));
        ModelProto m = OnnxModelReader.of(out).read();
        assertEquals(List.of(cut), m.getGraph().getOutputList().stream().map(o -> o.getName()).toList());
        assertTrue(m.getGraph().getNodeList().stream().noneMatch(n -> n.getOpType().equals("Gemm")), "the classifier is cut off");
        assertTrue(m.getGraph().getInitializerList().stream().noneMatch(t -> t.getName().startsWith("head") || t.getName().startsWith("fc")),
                "the classifier's weights are gone too");
        INDArray x = Npy.read(MODELS.resolve("resnet_small").resolve("input_b3.npy"));
        try (OrtRunner ort = new OrtRunner(out)) {
            Agreement a = Agreement.of(ort.run(Map.of("input", x), List.of(cut)).get(cut),
                    model.run(Map.of("input", x), List.of(cut)).get(cut), 1e-5, 0);
            assertTrue(a.within(), a.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 15, 17, 19, 21})
    void everySupportedOpsetRuns(int opset) throws Exception {
        Path source = MODELS.resolve("resnet_small").resolve("model.onnx");
        GraftModel model = Graft.load(source);
        Path out = dir.resolve("r" + opset + ".onnx");
        new OnnxExporter().write(model, out, OnnxExporter.Options.defaults().withOpset(opset));
        ModelProto m = OnnxModelReader.of(out).read();
        assertEquals(opset, m.getOpsetImport(0).getVersion());
        INDArray x = Npy.read(MODELS.resolve("resnet_small").resolve("input_b3.npy"));
        INDArray expected = Npy.read(MODELS.resolve("resnet_small").resolve("output_b3.npy"));
        try (OrtRunner ort = new OrtRunner(out)) {
            Agreement a = Agreement.of(ort.run(Map.of("input", x), List.of("output")).get("output"), expected, ATOL, 0);
            assertTrue(a.within(), "opset " + opset + ": " + a);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {12, 22})
    void opsetsOutsideTheRangeAreRefused(int opset) {
        GraftModel model = Graft.load(MODELS.resolve("resnet_small").resolve("model.onnx"));
        GraftException e = assertThrows(GraftException.class,
                () -> model.exportOnnx(dir.resolve("x.onnx"), OnnxExporter.Options.defaults().withOpset(opset)));
        assertTrue(e.getMessage().contains("opset " + opset) && e.getMessage().contains("13 to 21"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.onnx")));
    }

    /** A graph built by hand, never imported: several named outputs, weights as initializers. */
    @Test
    void handBuiltGraphWithTwoOutputs() throws Exception {
        SameDiff sd = SameDiff.create();
        Nd4j.getRandom().setSeed(5);
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 6);
        SDVariable w1 = sd.var("w1", Nd4j.rand(DataType.FLOAT, 6, 8).subi(0.5));
        SDVariable b1 = sd.var("b1", Nd4j.rand(DataType.FLOAT, 8));
        SDVariable h = sd.mmul(x, w1).add(b1);
        SDVariable w2 = sd.var("w2", Nd4j.rand(DataType.FLOAT, 8, 3));
        sd.nn.softmax("probs", sd.mmul(h, w2), 1);
        sd.nn.sigmoid("flags", h);
        GraftModel model = GraftModel.of(sd, List.of("probs", "flags"));
        Path out = EXPORTED.resolve("hand-built").resolve("two_outputs.onnx");
        model.exportOnnx(out);
        ModelProto m = OnnxModelReader.of(out).read();
        assertEquals(List.of("probs", "flags"), m.getGraph().getOutputList().stream().map(o -> o.getName()).toList());
        assertEquals(List.of("b1", "w1", "w2"), m.getGraph().getInitializerList().stream().map(TensorProto::getName).sorted().toList());
        try (OrtRunner ort = new OrtRunner(out)) {
            for (int batch : new int[]{1, 7}) {
                INDArray in = Nd4j.rand(DataType.FLOAT, batch, 6);
                Map<String, INDArray> mine = ort.run(Map.of("x", in), List.of());
                Map<String, INDArray> ref = model.run(Map.of("x", in), List.of());
                for (String o : List.of("probs", "flags")) {
                    assertArrayEquals(ref.get(o).shape(), mine.get(o).shape());
                    assertTrue(Agreement.of(mine.get(o), ref.get(o), 1e-6, 1e-5).within(), o + " at batch " + batch);
                }
            }
        }
    }

    /**
     * The shape of fine-tuning: an imported trunk keeps its nodes as they were, a new head built in SameDiff on
     * an inner tensor is spelled out, and both the old output and the new head are exported.
     */
    @Test
    void importedTrunkWithANewHeadExportsBothWays() throws Exception {
        GraftModel model = Graft.load(MODELS.resolve("resnet_small").resolve("model.onnx"));
        SameDiff sd = model.sameDiff();
        Nd4j.getRandom().setSeed(9);
        SDVariable features = sd.getVariable("/Flatten_output_0");
        long width = model.run(Map.of("input", Npy.read(MODELS.resolve("resnet_small").resolve("input_b1.npy"))),
                List.of("/Flatten_output_0")).get("/Flatten_output_0").size(1);
        SDVariable w = sd.var("head_w", Nd4j.rand(DataType.FLOAT, width, 4).subi(0.5));
        SDVariable b = sd.var("head_b", Nd4j.zeros(DataType.FLOAT, 4));
        sd.nn.softmax("head", sd.mmul(features, w).add(b), 1);
        GraftModel grafted = model.withOutputs(List.of("output", "head"));
        Path out = EXPORTED.resolve("grafted").resolve("resnet_new_head.onnx");
        OnnxExporter.Result r = new OnnxExporter().write(grafted, out, OnnxExporter.Options.defaults());
        assertEquals(31, r.sourceNodesKept(), "the trunk and old classifier are written back");
        assertEquals(3, r.opsSpelledOut(), "matmul, add, softmax of the new head");
        INDArray x = Npy.read(MODELS.resolve("resnet_small").resolve("input_b3.npy"));
        try (OrtRunner ort = new OrtRunner(out)) {
            Map<String, INDArray> mine = ort.run(Map.of("input", x), List.of("output", "head"));
            Map<String, INDArray> ref = grafted.run(Map.of("input", x), List.of("output", "head"));
            for (String o : List.of("output", "head")) {
                assertTrue(Agreement.of(mine.get(o), ref.get(o), ATOL, 0).within(), o);
            }
        }
    }

    /** Ops without an exporter: one error listing every such op type; no file, an existing one untouched. */
    @Test
    void unexportableOpsAreAllListedAndNothingIsWritten() throws Exception {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, 3, 3);
        SDVariable a = sd.linalg().cholesky(sd.mmul(x, sd.transpose(x)).add(sd.math().eye(3)));
        SDVariable b = sd.math().matrixInverse(a);
        sd.identity("y", b.add(a));
        GraftModel model = GraftModel.of(sd, List.of("y"));
        Path out = dir.resolve("existing.onnx");
        Files.writeString(out, "previous content");
        GraftException e = assertThrows(GraftException.class, () -> model.exportOnnx(out));
        assertTrue(e.getMessage().contains("Cholesky") || e.getMessage().contains("cholesky"), e.getMessage());
        assertTrue(e.getMessage().contains("matrix_inverse"), e.getMessage());
        assertTrue(e.getMessage().contains("no file was written"), e.getMessage());
        assertEquals("previous content", Files.readString(out));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    /** Over the size protobuf can hold: a clear error instead of a broken file (limit lowered to test it). */
    @Test
    void modelsTooLargeForOneFileAreRefused() {
        GraftModel model = Graft.load(MODELS.resolve("resnet_small").resolve("model.onnx"));
        Path out = dir.resolve("big.onnx");
        GraftException e = assertThrows(GraftException.class,
                () -> new OnnxExporter().write(model, out, OnnxExporter.Options.defaults().withSizeLimit(100_000)));
        assertTrue(e.getMessage().contains("2 GB") && e.getMessage().contains("no file was written"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void unknownOutputNamesAreReported() {
        GraftModel model = Graft.load(MODELS.resolve("resnet_small").resolve("model.onnx"));
        GraftException e = assertThrows(GraftException.class, () -> new OnnxExporter().export(model,
                OnnxExporter.Options.defaults().withOutputs(List.of("no_such_tensor"))));
        assertTrue(e.getMessage().contains("no_such_tensor") && e.getMessage().contains("output"), e.getMessage());
    }
}
