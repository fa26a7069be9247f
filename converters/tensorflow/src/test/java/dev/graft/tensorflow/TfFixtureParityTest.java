package dev.graft.tensorflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.LoadOptions;
import dev.graft.cli.CliRun;
import dev.graft.io.Npy;
import dev.graft.onnx.OnnxModelReader;
import dev.graft.onnx.runtime.OrtRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Issue #5's three-way parity on the fixtures TensorFlow made (tests-resources/tf-models, see
 * MakeTensorflowFixtures.java): for every model and every form it was saved in, TensorFlow (TensorFlow
 * Java) = SameDiff (graft's import) = ONNX Runtime (the file `graft convert` writes), within 1e-4 absolute,
 * at batch 1 and 5. 1e-4: the three engines sum convolutions and means in float32 in different orders;
 * outputs are logits of order 1-10 and probabilities. TensorFlow itself must also reproduce the outputs the
 * generator recorded, so the fixtures cannot drift.
 */
class TfFixtureParityTest {
    static final Path MODELS = Path.of("tests-resources/tf-models");
    static final double ATOL = 1e-4;

    static Stream<Arguments> forms() {
        List<Arguments> a = new ArrayList<>();
        for (String model : List.of("cnn", "mobilenet_block", "mlp")) {
            a.add(Arguments.of(model, "savedmodel"));
            a.add(Arguments.of(model, "frozen.pb"));
        }
        a.add(Arguments.of("cnn", "frozen.pbtxt"));
        a.add(Arguments.of("cnn", "savedmodel_text"));
        a.add(Arguments.of("mobilenet_block", "savedmodel_tf2"));
        return a.stream();
    }

    @ParameterizedTest(name = "{0}/{1}")
    @MethodSource("forms")
    void tensorflowSameDiffAndOnnxRuntimeAgree(String model, String form) throws Exception {
        Path source = MODELS.resolve(model).resolve(form);
        assertTrue(Files.exists(source), source + " (made by tests-resources/scripts/make_tf_fixtures.sh)");
        // graft convert, as a user runs it; kept for ONNX's checker (.ci/run).
        Path onnx = Path.of("target/exported-models/tensorflow/" + model + "_" + form.replace('.', '_') + ".onnx");
        Files.createDirectories(onnx.getParent());
        CliRun convert = CliRun.of("convert", source.toString(), onnx.toString());
        assertEquals(0, convert.code(), convert.out() + convert.err());

        GraftModel imported = Graft.load(source);
        List<String> outputs = form.equals("frozen.pb") || form.equals("frozen.pbtxt") ? List.of("probabilities")
                : List.of("logits", "probabilities");
        assertEquals(outputs, imported.outputNames());
        assertEquals(List.of("x"), imported.inputNames());
        try (TfRunner tf = TfRunner.open(source, LoadOptions.defaults()); OrtRunner ort = new OrtRunner(onnx)) {
            assertEquals(outputs, ort.outputNames());
            for (int batch : new int[]{1, 5}) {
                INDArray x = Npy.read(MODELS.resolve(model).resolve("reference/x_b" + batch + ".npy"));
                Map<String, INDArray> feeds = Map.of("x", x);
                Map<String, INDArray> byTf = tf.run(feeds, outputs);
                Map<String, INDArray> bySd = imported.run(feeds, outputs);
                Map<String, INDArray> byOrt = ort.run(feeds, outputs);
                for (String o : outputs) {
                    INDArray recorded = Npy.read(MODELS.resolve(model).resolve("reference/" + o + "_b" + batch + ".npy"));
                    String what = model + "/" + form + " " + o + " at batch " + batch;
                    assertWithin(recorded, byTf.get(o), ATOL, what + ": TensorFlow vs the generator's record");
                    assertWithin(byTf.get(o), bySd.get(o), ATOL, what + ": SameDiff vs TensorFlow");
                    assertWithin(byTf.get(o), byOrt.get(o), ATOL, what + ": ONNX Runtime vs TensorFlow");
                }
            }
        }
        // The export computes in NCHW with no Transpose between two convolutions (issue #5, point 3).
        ModelProto m = OnnxModelReader.of(onnx).read();
        assertNoTransposeBetweenConvs(m, model + "/" + form);
    }

    @org.junit.jupiter.api.Test
    void float64GraphsImportAsFloat64() throws Exception {
        Path source = MODELS.resolve("mlp/frozen_f64.pb");
        GraftModel m = Graft.load(source);
        assertEquals(DataType.DOUBLE, m.inputs().get(0).dataType());
        INDArray x = Npy.read(MODELS.resolve("mlp/reference/x_b5_f64.npy"));
        INDArray expected = Npy.read(MODELS.resolve("mlp/reference/probabilities_b5_f64.npy"));
        INDArray got = m.run(Map.of("x", x), List.of("probabilities")).get("probabilities");
        assertEquals(DataType.DOUBLE, got.dataType());
        assertWithin(expected, got, 1e-12, "float64 MLP: SameDiff vs TensorFlow (double precision, so 1e-12)");
    }

    static void assertWithin(INDArray expected, INDArray actual, double atol, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double worst = expected.castTo(DataType.DOUBLE).sub(actual.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        assertTrue(worst <= atol, what + ": max abs difference " + worst + " > " + atol);
    }

    /** Walks forward from every Conv output over non-Conv nodes: no Transpose may be met before the next Conv. */
    static void assertNoTransposeBetweenConvs(ModelProto m, String what) {
        Map<String, List<NodeProto>> readers = new HashMap<>();
        for (NodeProto n : m.getGraph().getNodeList()) for (String in : n.getInputList()) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        for (NodeProto conv : m.getGraph().getNodeList()) {
            if (!conv.getOpType().equals("Conv")) continue;
            List<String> frontier = new ArrayList<>(conv.getOutputList());
            java.util.Set<String> seen = new java.util.HashSet<>();
            while (!frontier.isEmpty()) {
                String t = frontier.remove(frontier.size() - 1);
                if (!seen.add(t)) continue;
                for (NodeProto r : readers.getOrDefault(t, List.of())) {
                    if (r.getOpType().equals("Conv")) continue;
                    if (r.getOpType().equals("Transpose") && reachesConv(r, readers)) {
                        throw new AssertionError(what + ": Transpose '" + r.getName() + "' sits between Conv '" + conv.getName() + "' and a later Conv");
                    }
                    frontier.addAll(r.getOutputList());
                }
            }
        }
    }

    private static boolean reachesConv(NodeProto start, Map<String, List<NodeProto>> readers) {
        List<String> frontier = new ArrayList<>(start.getOutputList());
        java.util.Set<String> seen = new java.util.HashSet<>();
        while (!frontier.isEmpty()) {
            String t = frontier.remove(frontier.size() - 1);
            if (!seen.add(t)) continue;
            for (NodeProto r : readers.getOrDefault(t, List.of())) {
                if (r.getOpType().equals("Conv")) return true;
                frontier.addAll(r.getOutputList());
            }
        }
        return false;
    }
}
