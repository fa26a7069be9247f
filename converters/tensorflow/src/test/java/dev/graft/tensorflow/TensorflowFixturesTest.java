package dev.graft.tensorflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.TextFormat;
import dev.graft.io.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * The TensorFlow fixtures in tests-resources/tf-models (made by tests-resources/scripts/make_tf_fixtures.sh)
 * are what they claim to be: every form loads in TensorFlow Java and reproduces the committed reference
 * outputs, the files are the ones the manifest lists, and each form has the structure the importer's tests
 * rely on (TF1 training graph with VariableV2, TF2 functions over resource variables, frozen inference graph).
 */
class TensorflowFixturesTest {

    static final Path ROOT = Path.of("tests-resources/tf-models");
    static final List<String> MODELS = List.of("cnn", "mobilenet_block", "mlp");

    /**
     * The references were computed by TensorFlow (native 2.18 through TF Java 1.1.0) from each model's TF1
     * SavedModel, in one-thread sessions. Recomputing them with the same build is not bit-exact: these sessions
     * use TensorFlow's default thread pools, which split convolutions and reductions differently (about 1e-6
     * on the SavedModels themselves); the frozen graphs hold their weights as Const, so Grappler folds and fuses
     * batch norm differently (up to 4e-6 on logits that reach |17|); and another CPU may pick other oneDNN/Eigen
     * kernels. 1e-5 absolute is a few float32 ulps at that magnitude, far below what a wrong weight, a missed
     * batch-norm statistic or a dropout mask left on would change (0.01 and more).
     */
    static final double ATOL = 1e-5;

    static JsonNode manifest;

    @BeforeAll
    static void readManifest() throws IOException {
        manifest = new ObjectMapper().readTree(ROOT.resolve("manifest.json").toFile());
    }

    // ---------------------------------------------------------------------------------- files

    @Test
    void manifestListsEveryFileWithItsSha256AndSize() throws IOException {
        assertEquals(new TreeSet<>(MODELS), names(manifest.get("models").fieldNames()));
        for (String model : MODELS) {
            JsonNode entry = manifest.get("models").get(model);
            JsonNode files = entry.get("files");
            Path dir = ROOT.resolve(model);
            Set<String> onDisk;
            try (Stream<Path> walk = Files.walk(dir)) {
                onDisk = walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/'))
                        .collect(Collectors.toCollection(TreeSet::new));
            }
            assertEquals(onDisk, names(files.fieldNames()), model + ": files on disk vs manifest");
            for (String file : onDisk) {
                Path p = dir.resolve(file);
                assertEquals(files.get(file).get("sha256").asText(), sha256(p), model + "/" + file);
                assertEquals(files.get(file).get("bytes").asLong(), Files.size(p), model + "/" + file);
            }
            assertEquals(manifest.get("mnist").get("version").asText(), entry.get("mnist_version").asText());
            assertTrue(entry.get("training").get("steps").asInt() >= 100, model + ": trained");
            assertTrue(entry.get("test_accuracy").asDouble() > 0.8, model + ": accuracy on held-out digits");
        }
        long total;
        try (Stream<Path> walk = Files.walk(ROOT)) {
            total = walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        assertTrue(total < 5_000_000, "tf-models holds " + total + " bytes");
    }

    // ---------------------------------------------------------------------------------- outputs

    @ParameterizedTest
    @ValueSource(strings = {"cnn/savedmodel", "cnn/savedmodel_text", "mobilenet_block/savedmodel",
            "mobilenet_block/savedmodel_tf2", "mlp/savedmodel"})
    void savedModelReproducesTheReferences(String form) {
        String model = form.substring(0, form.indexOf('/'));
        try (SavedModelBundle bundle = SavedModelBundle.load(ROOT.resolve(form).toString(), "serve")) {
            for (String batch : List.of("b1", "b5")) {
                INDArray x = reference(model, "x_" + batch);
                try (TFloat32 xt = floatTensor(x);
                        Result r = bundle.function("serving_default").call(Map.of("x", xt))) {
                    for (String key : List.of("logits", "probabilities")) {
                        assertClose(reference(model, key + "_" + batch), (TFloat32) r.get(key).orElseThrow(),
                                form + " " + key + " " + batch);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cnn/frozen.pb", "cnn/frozen.pbtxt", "mobilenet_block/frozen.pb", "mlp/frozen.pb"})
    void frozenGraphReproducesTheReferences(String form) throws IOException {
        String model = form.substring(0, form.indexOf('/'));
        GraphDef def = readGraphDef(ROOT.resolve(form));
        assertFrozen(def, form, DataType.DT_FLOAT);
        try (Graph g = new Graph()) {
            g.importGraphDef(def);
            try (Session s = new Session(g)) {
                for (String batch : List.of("b1", "b5")) {
                    try (TFloat32 xt = floatTensor(reference(model, "x_" + batch));
                            Result r = s.runner().feed("x", xt).fetch("logits").fetch("probabilities").run()) {
                        assertClose(reference(model, "logits_" + batch), (TFloat32) r.get(0), form + " logits " + batch);
                        assertClose(reference(model, "probabilities_" + batch), (TFloat32) r.get(1),
                                form + " probabilities " + batch);
                    }
                }
            }
        }
    }

    @Test
    void mlpFloat64GraphReproducesItsReference() throws IOException {
        GraphDef def = GraphDef.parseFrom(Files.readAllBytes(ROOT.resolve("mlp/frozen_f64.pb")));
        assertFrozen(def, "mlp/frozen_f64.pb", DataType.DT_DOUBLE);
        for (NodeDef node : def.getNodeList()) {
            node.getAttrMap().values().forEach(v -> assertFalse(v.getType() == DataType.DT_FLOAT,
                    "mlp/frozen_f64.pb: " + node.getName() + " has a float32 attribute"));
        }
        INDArray x = Npy.read(ROOT.resolve("mlp/reference/x_b5_f64.npy"));
        INDArray expected = Npy.read(ROOT.resolve("mlp/reference/probabilities_b5_f64.npy"));
        assertEquals(org.nd4j.linalg.api.buffer.DataType.DOUBLE, x.dataType());
        try (Graph g = new Graph()) {
            g.importGraphDef(def);
            try (Session s = new Session(g);
                    TFloat64 xt = TFloat64.tensorOf(Shape.of(x.shape()), DataBuffers.of(x.dup('c').data().asDouble()));
                    Result r = s.runner().feed("x", xt).fetch("probabilities").run()) {
                double[] actual = new double[(int) expected.length()];
                ((TFloat64) r.get(0)).copyTo(DataBuffers.of(actual, false, false));
                double[] want = expected.dup('c').data().asDouble();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], actual[i], ATOL, "mlp/frozen_f64.pb probabilities[" + i + "]");
                }
                // and the float64 network is the float32 one
                double[] f32 = reference("mlp", "probabilities_b5").dup('c').data().asDouble();
                for (int i = 0; i < want.length; i++) assertEquals(f32[i], actual[i], ATOL);
            }
        }
    }

    // ---------------------------------------------------------------------------------- structure

    @ParameterizedTest
    @ValueSource(strings = {"cnn", "mobilenet_block", "mlp"})
    void tf1SavedModelHoldsTheWholeTrainingGraph(String model) throws IOException {
        MetaGraphDef meta = onlyMetaGraph(SavedModel.parseFrom(Files.readAllBytes(ROOT.resolve(model + "/savedmodel/saved_model.pb"))));
        assertEquals(List.of("serve"), meta.getMetaInfoDef().getTagsList());
        SignatureDef sig = meta.getSignatureDefOrThrow("serving_default");
        assertEquals("x:0", sig.getInputsOrThrow("x").getName());
        assertEquals("logits:0", sig.getOutputsOrThrow("logits").getName());
        assertEquals("probabilities:0", sig.getOutputsOrThrow("probabilities").getName());

        Map<String, NodeDef> nodes = byName(meta.getGraphDef());
        Set<String> ops = nodes.values().stream().map(NodeDef::getOp).collect(Collectors.toSet());
        for (String op : List.of("VariableV2", "ApplyAdam", "SoftmaxCrossEntropyWithLogits", "Assign", "RestoreV2", "SaveV2")) {
            assertTrue(ops.contains(op), model + ": no " + op);
        }
        assertTrue(nodes.keySet().stream().anyMatch(n -> n.startsWith("gradients/")), model + ": no gradient ops");
        assertEquals("VariableV2", nodes.get("dense/kernel").getOp());
        assertEquals("Identity", nodes.get("dense/kernel/read").getOp());
        assertTrue(nodes.containsKey("dense/kernel/Adam"), model + ": no Adam slot");
        assertFalse(meta.getSaverDef().getRestoreOpName().isEmpty());
        assertEquals("Placeholder", nodes.get("x").getOp());
        assertEquals(-1, nodes.get("x").getAttrOrThrow("shape").getShape().getDim(0).getSize());
        assertEquals("BiasAdd", nodes.get("logits").getOp());
        assertEquals("Softmax", nodes.get("probabilities").getOp());

        if (!model.equals("mlp")) {
            String bn = model.equals("cnn") ? "bn1" : "stem_bn";
            for (String v : List.of("gamma", "beta", "moving_mean", "moving_variance")) {
                assertEquals("VariableV2", nodes.get(bn + "/" + v).getOp(), bn + "/" + v);
            }
            assertTrue(nodes.get(bn + "/FusedBatchNormV3").getAttrOrThrow("is_training").getB() == false);
            assertEquals("FusedBatchNormV3", nodes.get("train/" + bn + "/FusedBatchNormV3").getOp());
            assertTrue(nodes.get("train/" + bn + "/FusedBatchNormV3").getAttrOrThrow("is_training").getB());
            assertEquals("AssignSub", nodes.get("train/" + bn + "/AssignMovingAvg").getOp());
            assertTrue(ops.contains("FusedBatchNormGradV3"), model + ": no batch-norm gradient");
        }
        if (model.equals("cnn")) {
            assertEquals("MaxPool", nodes.get("pool1").getOp());
            assertTrue(ops.contains("Conv2DBackpropFilter"));
        }
        if (model.equals("mobilenet_block")) {
            assertEquals("DepthwiseConv2dNative", nodes.get("block/depthwise/depthwise").getOp());
            assertEquals("AddV2", nodes.get("block/add").getOp());
        }
        if (model.equals("mlp")) {
            NodeDef training = nodes.get("training");
            assertEquals("PlaceholderWithDefault", training.getOp());
            assertEquals(DataType.DT_BOOL, training.getAttrOrThrow("dtype").getType());
            assertEquals("Switch", nodes.get("dropout/cond/Switch_1").getOp());
            assertEquals("Merge", nodes.get("dropout/cond/Merge").getOp());
            assertEquals("Identity", nodes.get("dropout/cond/Identity").getOp());
            assertEquals("RandomUniform", nodes.get("dropout/cond/dropout/random_uniform").getOp());
        }
    }

    @Test
    void tf2SavedModelCallsFunctionsOverResourceVariables() throws IOException {
        Path dir = ROOT.resolve("mobilenet_block/savedmodel_tf2");
        MetaGraphDef meta = onlyMetaGraph(SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb"))));
        SignatureDef sig = meta.getSignatureDefOrThrow("serving_default");
        assertEquals("serving_default_x:0", sig.getInputsOrThrow("x").getName());
        assertEquals("StatefulPartitionedCall:0", sig.getOutputsOrThrow("logits").getName());
        assertEquals("StatefulPartitionedCall:1", sig.getOutputsOrThrow("probabilities").getName());
        assertTrue(Files.exists(dir.resolve("variables/variables.index")));

        GraphDef graph = meta.getGraphDef();
        Map<String, NodeDef> nodes = byName(graph);
        assertEquals("StatefulPartitionedCall", nodes.get("StatefulPartitionedCall").getOp());
        assertEquals("VarHandleOp", nodes.get("stem/kernel").getOp());
        assertTrue(nodes.values().stream().noneMatch(n -> n.getOp().equals("VariableV2")));
        assertTrue(graph.getLibrary().getFunctionCount() >= 2, "function library");

        String called = nodes.get("StatefulPartitionedCall").getAttrOrThrow("f").getFunc().getName();
        FunctionDef wrapper = function(graph, called);
        NodeDef nested = wrapper.getNodeDefList().stream().filter(n -> n.getOp().equals("StatefulPartitionedCall"))
                .findFirst().orElseThrow(() -> new AssertionError(called + " calls no function"));
        FunctionDef body = function(graph, nested.getAttrOrThrow("f").getFunc().getName());
        assertTrue(body.getSignature().getInputArgList().stream().anyMatch(a -> a.getType() == DataType.DT_RESOURCE));
        Set<String> bodyOps = body.getNodeDefList().stream().map(NodeDef::getOp).collect(Collectors.toSet());
        for (String op : List.of("ReadVariableOp", "Conv2D", "DepthwiseConv2dNative", "FusedBatchNormV3", "AddV2", "Softmax")) {
            assertTrue(bodyOps.contains(op), "function body lacks " + op);
        }

        // The weights live in variables/ only: no float Const anywhere, graph or function.
        Stream<NodeDef> all = Stream.concat(graph.getNodeList().stream(),
                graph.getLibrary().getFunctionList().stream().flatMap(f -> f.getNodeDefList().stream()));
        all.filter(n -> n.getOp().equals("Const")).forEach(n -> assertFalse(
                n.getAttrOrThrow("dtype").getType() == DataType.DT_FLOAT, "float Const " + n.getName()));
    }

    // ---------------------------------------------------------------------------------- helpers

    static void assertFrozen(GraphDef def, String form, DataType type) {
        Map<String, NodeDef> nodes = byName(def);
        Set<String> consumed = new HashSet<>();
        for (NodeDef n : def.getNodeList()) {
            assertFalse(Set.of("VariableV2", "VarHandleOp", "ReadVariableOp", "Assign", "ApplyAdam").contains(n.getOp()),
                    form + ": " + n.getName() + " is " + n.getOp());
            for (String in : n.getInputList()) consumed.add(in.replaceFirst("^\\^", "").replaceFirst(":\\d+$", ""));
        }
        Set<String> sinks = new TreeSet<>(nodes.keySet());
        sinks.removeAll(consumed);
        assertEquals(Set.of("probabilities"), sinks, form + ": sinks");
        assertEquals("Placeholder", nodes.get("x").getOp());
        assertEquals(type, nodes.get("x").getAttrOrThrow("dtype").getType());
        assertEquals(-1, nodes.get("x").getAttrOrThrow("shape").getShape().getDim(0).getSize());
        assertEquals("BiasAdd", nodes.get("logits").getOp());
        assertEquals("Const", nodes.get("dense/kernel").getOp());
    }

    static GraphDef readGraphDef(Path file) throws IOException {
        if (file.toString().endsWith(".pbtxt")) {
            return TextFormat.parse(Files.readString(file), GraphDef.class);
        }
        return GraphDef.parseFrom(Files.readAllBytes(file));
    }

    static MetaGraphDef onlyMetaGraph(SavedModel model) {
        assertEquals(1, model.getMetaGraphsCount());
        return model.getMetaGraphs(0);
    }

    static Map<String, NodeDef> byName(GraphDef def) {
        return def.getNodeList().stream().collect(Collectors.toMap(NodeDef::getName, n -> n));
    }

    static FunctionDef function(GraphDef graph, String name) {
        return graph.getLibrary().getFunctionList().stream().filter(f -> f.getSignature().getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no function " + name + " in the library"));
    }

    static INDArray reference(String model, String name) {
        return Npy.read(ROOT.resolve(model).resolve("reference").resolve(name + ".npy"));
    }

    static TFloat32 floatTensor(INDArray a) {
        return TFloat32.tensorOf(Shape.of(a.shape()), DataBuffers.of(a.dup('c').data().asFloat()));
    }

    static void assertClose(INDArray expected, TFloat32 actual, String what) {
        assertNotNull(actual, what);
        assertArrayEquals(expected.shape(), actual.shape().asArray(), what + ": shape");
        float[] got = new float[(int) expected.length()];
        actual.copyTo(DataBuffers.of(got, false, false));
        float[] want = expected.dup('c').data().asFloat();
        double max = 0;
        for (int i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i] - got[i]));
        assertTrue(max <= ATOL, what + ": max |diff| " + max + " > " + ATOL);
    }

    static Set<String> names(Iterator<String> it) {
        Set<String> out = new TreeSet<>();
        it.forEachRemaining(out::add);
        return out;
    }

    static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
