package dev.graft.tensorflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.data.Dataset;
import dev.graft.io.Npy;
import dev.graft.onnx.OnnxModelReader;
import dev.graft.onnx.OnnxTensors;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.surgery.HeadSpec;
import dev.graft.surgery.Surgery;
import dev.graft.train.FitResult;
import dev.graft.train.Freeze;
import dev.graft.train.TrainSettings;
import dev.graft.verify.Agreement;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;

/**
 * Issue #4's end-to-end check with a TensorFlow SavedModel as the source (issue #5, point 6): the CNN
 * TensorFlow Java trained on MNIST digits is cut before its classifier, given (a) one new softmax head and
 * (b) a softmax head plus a multi-label sigmoid head with missing labels, trained on real digits 5-9 (task
 * B), exported and run in ONNX Runtime. The exported outputs equal SameDiff's within 1e-4 (float32 sums in
 * another order), there is one output per head, and the frozen trunk weights in the file equal the values
 * TensorFlow reads from the SavedModel's checkpoint (in ONNX's layout where the export transposed them).
 */
class TfFineTuneTest {
    static final Path SAVED = Path.of("tests-resources/tf-models/cnn/savedmodel");
    static final PrintStream QUIET = new PrintStream(java.io.OutputStream.nullOutputStream());

    /** Real digits 5-9 from tests-resources/mnist, scaled to [0, 1], NHWC [n, 28, 28, 1]; labels digit - 5. */
    static Map<String, INDArray> digitsFiveToNine(int perClass) throws Exception {
        INDArray x = Npy.read(Path.of("tests-resources/mnist/x_uint8.npy"));
        INDArray y = Npy.read(Path.of("tests-resources/mnist/y.npy"));
        int total = (int) y.length();
        int[] rows = java.util.stream.IntStream.range(0, total).filter(i -> y.getLong(i) >= 5)
                .filter(i -> i % 200 < perClass).toArray();
        INDArray xs = Nd4j.create(DataType.FLOAT, rows.length, 28, 28, 1);
        long[] labels = new long[rows.length];
        for (int k = 0; k < rows.length; k++) {
            xs.get(NDArrayIndex.point(k)).assign(x.get(NDArrayIndex.point(rows[k])).castTo(DataType.FLOAT).div(255).reshape(28, 28, 1));
            labels[k] = y.getLong(rows[k]) - 5;
        }
        return Map.of("x", xs, "digit", Nd4j.createFromArray(labels));
    }

    /** Variable values as TensorFlow reads them from the checkpoint. */
    static Map<String, INDArray> checkpointValues(List<String> names) {
        Map<String, INDArray> out = new HashMap<>();
        try (SavedModelBundle b = SavedModelBundle.load(SAVED.toString(), "serve")) {
            for (String n : names) {
                if (b.graph().operation(n) == null) continue;
                try (Result r = b.session().runner().fetch(n).run()) {
                    out.put(n, TfTensors.toNd4j(r.get(0), n));
                }
            }
        }
        return out;
    }

    private static void assertExportMatches(Path onnx, GraftModel model, INDArray x, List<String> heads) {
        try (OrtRunner ort = new OrtRunner(onnx)) {
            assertEquals(heads, ort.outputNames(), "one ONNX output per head, named after it");
            Map<String, INDArray> a = ort.run(Map.of("x", x), heads);
            Map<String, INDArray> b = model.run(Map.of("x", x), heads);
            for (String h : heads) {
                Agreement ag = Agreement.of(a.get(h), b.get(h), 1e-4, 0);
                assertTrue(ag.within(), h + ": " + ag);
            }
        }
    }

    /** Every exported initializer named after a TensorFlow variable equals its checkpoint value, up to layout. */
    private static int assertFrozenTrunkInFile(Path onnx, List<String> trunk) {
        ModelProto m = OnnxModelReader.of(onnx).read();
        Map<String, INDArray> source = checkpointValues(trunk);
        int compared = 0;
        for (TensorProto t : m.getGraph().getInitializerList()) {
            INDArray expected = source.get(t.getName());
            if (expected == null) continue;
            INDArray actual = OnnxTensors.toArray(t, null, "export");
            if (!java.util.Arrays.equals(expected.shape(), actual.shape()) && expected.rank() == 4) {
                expected = expected.permute(3, 2, 0, 1); // HWIO -> OIHW, as the NCHW export stores kernels
            }
            assertArrayEquals(expected.shape(), actual.shape(), t.getName());
            assertArrayEquals(expected.dup().data().asFloat(), actual.dup().data().asFloat(), t.getName() + " changed");
            compared++;
        }
        return compared;
    }

    @Test
    void oneNewSoftmaxHeadOnATensorflowSavedModel() throws Exception {
        GraftModel source = Graft.load(SAVED);
        assertEquals("tensorflow-savedmodel", source.source().format());
        Surgery.AutoCut auto = Surgery.autoCut(source);
        GraftModel model = source.cut("auto").attachHead(HeadSpec.softmax("digit", 5).withLayers(List.of(32))).freeze(Freeze.all());
        assertEquals(List.of("digit"), model.outputNames());
        List<String> trunk = model.parameterNames().stream().filter(p -> !p.startsWith("digit/")).toList();
        assertTrue(trunk.contains("conv1/kernel"), "TensorFlow variables keep their names: " + trunk);
        Map<String, INDArray> d = digitsFiveToNine(60);
        FitResult fit = model.fit(Dataset.of(Map.of("x", d.get("x")), Map.of("digit", d.get("digit"))),
                TrainSettings.defaults().withEpochs(10).withBatchSize(32).withLearningRate(1e-2).withProgress(QUIET, true));
        double first = ((Number) fit.history().get(0).get("train_loss")).doubleValue();
        double last = ((Number) fit.history().get(fit.history().size() - 1).get("train_loss")).doubleValue();
        assertTrue(fit.featureCache(), "a frozen trunk trains the head on cached features");
        assertTrue(last < 0.5 * first, "training loss falls clearly (cut at " + auto.tensor() + "): " + first + " -> " + last);

        Path out = Path.of("target/exported-models/tensorflow/finetuned_digit.onnx");
        model.exportOnnx(out);
        assertExportMatches(out, model, digitsFiveToNine(200).get("x").get(NDArrayIndex.interval(0, 7)), List.of("digit"));
        int compared = assertFrozenTrunkInFile(out, trunk);
        assertTrue(compared >= 6, "trunk weights compared with the checkpoint: " + compared);
    }

    /** The job file and `graft finetune` take a TensorFlow SavedModel as source like an ONNX file. */
    @Test
    void aFinetuneJobOnATensorflowSavedModel(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Map<String, INDArray> d = digitsFiveToNine(40);
        Path data = java.nio.file.Files.createDirectories(dir.resolve("data/train"));
        Npy.write(d.get("x"), data.resolve("x.npy"));
        Npy.write(d.get("digit"), data.resolve("y_digit.npy"));
        Path job = dir.resolve("job.yaml");
        java.nio.file.Files.writeString(job, """
                source: %s
                signature: serving_default
                outputs: [logits]
                cut: auto
                freeze: all
                heads:
                  - name: digit
                    layers: [16]
                    output: softmax
                    size: 5
                data:
                  train: data/train
                  split: 0.2
                train: {epochs: 3, batch_size: 32, optimizer: adam, learning_rate: 0.01, seed: 7}
                export: {onnx: out/model.onnx, verify: true}
                """.formatted(SAVED.toAbsolutePath()));
        dev.graft.cli.CliRun r = dev.graft.cli.CliRun.of("finetune", job.toString(), "--output-dir", dir.resolve("run").toString(), "--quiet");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(java.nio.file.Files.exists(dir.resolve("run/metrics.json")));
        try (OrtRunner ort = new OrtRunner(dir.resolve("out/model.onnx"))) {
            assertEquals(List.of("digit"), ort.outputNames());
            assertEquals(List.of("x"), ort.inputNames());
        }
    }

    @Test
    void twoHeadsWithMissingLabelsOnATensorflowSavedModel() throws Exception {
        GraftModel model = Graft.load(SAVED).cut("auto")
                .attachHead(HeadSpec.softmax("digit", 5).withLayers(List.of(32)))
                .attachHead(new HeadSpec("traits", null, List.of(16), "relu", 0.1, HeadSpec.OutputKind.SIGMOID, 2, 0.5, 11))
                .freeze(Freeze.all());
        assertEquals(List.of("digit", "traits"), model.outputNames());
        Map<String, INDArray> d = digitsFiveToNine(60);
        INDArray digit = d.get("digit").dup();
        int n = (int) digit.length();
        INDArray traits = Nd4j.create(DataType.FLOAT, n, 2); // [is even, is greater than 7]
        Random r = new Random(3);
        for (int i = 0; i < n; i++) {
            long v = digit.getLong(i) + 5;
            traits.putScalar(i, 0, v % 2 == 0 ? 1 : 0);
            traits.putScalar(i, 1, v > 7 ? 1 : 0);
            if (r.nextInt(3) == 0) digit.putScalar(i, -1);                 // a third of the digits unlabeled
            for (int c = 0; c < 2; c++) if (r.nextInt(4) == 0) traits.putScalar(i, c, Double.NaN);
        }
        Map<String, INDArray> labels = new LinkedHashMap<>();
        labels.put("digit", digit);
        labels.put("traits", traits);
        FitResult fit = model.fit(Dataset.of(Map.of("x", d.get("x")), labels), TrainSettings.defaults().withEpochs(12)
                .withBatchSize(32).withLearningRate(1e-2).withValidationSplit(0.2).withProgress(QUIET, true));
        double first = ((Number) fit.history().get(0).get("train_loss")).doubleValue();
        double last = ((Number) fit.history().get(fit.history().size() - 1).get("train_loss")).doubleValue();
        assertTrue(last < 0.6 * first, "loss falls: " + first + " -> " + last);
        assertTrue(fit.history().get(fit.history().size() - 1).containsKey("val_traits_f1"));
        Path out = Path.of("target/exported-models/tensorflow/finetuned_two_heads.onnx");
        model.exportOnnx(out);
        assertExportMatches(out, model, digitsFiveToNine(200).get("x").get(NDArrayIndex.interval(0, 9)), List.of("digit", "traits"));
    }
}
