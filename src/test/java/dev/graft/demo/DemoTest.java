package dev.graft.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.data.Dataset;
import dev.graft.surgery.HeadSpec;
import dev.graft.train.FitResult;
import dev.graft.train.Freeze;
import dev.graft.train.TrainSettings;
import java.util.Map;
import dev.graft.cli.GraftCli;
import dev.graft.io.Npy;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** `graft demo` on the bundled model and digits, shortened (fewer epochs) to keep the suite fast. */
class DemoTest {

    private static final PrintStream SILENT = new PrintStream(java.io.OutputStream.nullOutputStream());

    @Test
    void fineTunesTheBundledModelOnDigitsItNeverSawAndTheExportAgrees(@TempDir Path tmp) {
        Demo.Report r = Demo.run(Demo.Options.defaults(tmp.resolve("run")).withEpochs(15).withQuiet(true), SILENT);
        assertEquals(1, r.heads().size());
        Demo.HeadResult digit = r.heads().get(0);
        // A random head over 5 classes is near chance (0.2); the sample size (750 test digits) makes 0.35 a
        // generous bound. After training, the frozen-then-last-layer transfer reaches ~0.87 with 40 epochs;
        // 15 epochs must still be far above chance.
        assertTrue(digit.before() < 0.35, "untrained head: " + digit.before());
        assertTrue(digit.after() > 0.7, "fine-tuned: " + digit.after());
        // The exported model in ONNX Runtime classifies every test digit as SameDiff does.
        assertEquals(digit.after(), digit.afterOnnxRuntime(), 0.0);
        assertTrue(r.exportVerified());
        assertTrue(r.exportMaxAbsError() < 1e-4);
        assertEquals(150, r.trainRows());
        assertEquals(100, r.validationRows());
        assertEquals(750, r.testRows());
        assertEquals(0, r.missingLabels());
        for (Path p : List.of(r.job(), r.onnx(), r.metrics(), r.curves())) assertTrue(Files.isRegularFile(p), p.toString());
    }

    @Test
    void theTensorflowSavedModelRunsTheSameDemoInItsOwnLayout(@TempDir Path tmp) {
        Path run = tmp.resolve("run");
        Demo.Report r = Demo.run(Demo.Options.defaults(run).withSources(Path.of("models/mnist04_cnn_tf"), Demo.DEFAULT_DIGITS)
                .withEpochs(8).withQuiet(true), SILENT);
        // The SavedModel takes NHWC images: the demo writes them so, and the job it runs accepts them.
        assertArrayEquals(new long[] {150, 28, 28, 1}, Npy.read(run.resolve("data/train/x.npy")).shape());
        Demo.HeadResult digit = r.heads().get(0);
        // Same bounds as the PyTorch model's demo above: chance is 0.2 over 750 test digits; 8 epochs already
        // reach ~0.8 here (0.828 after early stopping in a 40-epoch run).
        assertTrue(digit.before() < 0.35, "untrained head: " + digit.before());
        assertTrue(digit.after() > 0.7, "fine-tuned: " + digit.after());
        assertEquals(digit.after(), digit.afterOnnxRuntime(), 0.0);
        assertTrue(r.exportVerified());
        assertEquals(Path.of("models/mnist04_cnn_tf.md"), Demo.cardOf(Path.of("models/mnist04_cnn_tf")));
        assertEquals(Path.of("models/mnist04_cnn_torch.md"), Demo.cardOf(Path.of("models/mnist04_cnn_torch.onnx")));
    }

    @Test
    void multiTaskGrowsThreeHeadsAndLeavesMissingLabelsOut(@TempDir Path tmp) {
        Path run = tmp.resolve("run");
        Demo.Report r = Demo.run(Demo.Options.defaults(run).withMultiTask(true).withEpochs(10).withQuiet(true), SILENT);
        assertEquals(List.of("digit", "even", "greater_than_4"), r.heads().stream().map(Demo.HeadResult::head).toList());
        for (Demo.HeadResult h : r.heads()) {
            assertEquals(h.after(), h.afterOnnxRuntime(), 0.0, h.head());
            assertTrue(h.after() > h.before() + 0.2, h.head() + ": " + h.before() + " -> " + h.after());
        }
        // 30% of each head's 300 training labels are written as missing: -1 for the classes, NaN for sigmoid labels.
        long[] digits = Npy.read(run.resolve("data/train/y_digit.npy")).castTo(DataType.LONG).data().asLong();
        long missingDigits = java.util.Arrays.stream(digits).filter(v -> v == -1).count();
        INDArray even = Npy.read(run.resolve("data/train/y_even.npy"));
        long missingEven = java.util.Arrays.stream(even.castTo(DataType.DOUBLE).data().asDouble()).filter(Double::isNaN).count();
        assertTrue(missingDigits > 60 && missingDigits < 120, "missing digit labels: " + missingDigits);
        assertTrue(missingEven > 60 && missingEven < 120, "missing even labels: " + missingEven);
        assertTrue(r.missingLabels() >= missingDigits + missingEven);
        assertEquals(1500, r.testRows());
    }

    /** The README's Java example, line for line, on the data a demo run wrote. */
    @Test
    void theReadmeJavaExampleRuns(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("demo");
        Demo.run(Demo.Options.defaults(run).withEpochs(1).withQuiet(true), SILENT);
        Path out = tmp.resolve("digits5to9.onnx");
        Path data = run.resolve("data/train");
        // --- README "In Java" (paths made relative to the test's folder) ---
        GraftModel model = Graft.load(Path.of("models/mnist04_cnn_torch.onnx"))      // PyTorch CNN, digits 0-4
                .cut("auto")                                                         // drop its classifier
                .attachHead(HeadSpec.softmax("digit", 5))                            // a new head: digits 5-9
                .freeze(Freeze.last(1));                                             // head + the trunk's last layer train
        Dataset train = Dataset.of(Map.of("image", Npy.read(data.resolve("x.npy"))),
                Map.of("digit", Npy.read(data.resolve("y_digit.npy"))));
        FitResult fit = model.fit(train, TrainSettings.defaults().withEpochs(20).withLearningRate(0.01));
        System.out.println(fit.history().get(fit.history().size() - 1));             // {epoch=20, train_loss=..., ...}
        model.exportOnnx(out);                                                       // one ONNX output per head
        // --- end ---
        assertEquals(20, fit.history().size());
        double first = ((Number) fit.history().get(0).get("train_loss")).doubleValue();
        double last = ((Number) fit.history().get(19).get("train_loss")).doubleValue();
        assertTrue(last < first / 2, "training loss " + first + " -> " + last);
        try (dev.graft.onnx.runtime.OrtRunner ort = new dev.graft.onnx.runtime.OrtRunner(out)) {
            assertEquals(List.of("digit"), ort.outputNames());
        }
    }

    @Test
    void theCommandReportsAndAMissingModelIsNamed(@TempDir Path tmp) {
        StringWriter err = new StringWriter();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int code;
        try {
            System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            code = GraftCli.execute(new String[] {"demo", "--quiet", "--epochs", "3", "--output-dir", tmp.resolve("run").toString()},
                    new PrintWriter(new StringWriter()), new PrintWriter(err));
        } finally {
            System.setOut(old);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(GraftCli.OK, code, out + err);
        assertTrue(out.contains("result on 750 held-out test digits"), out);
        assertTrue(out.contains("export verified"), out);

        Path missing = tmp.resolve("nowhere.onnx");
        GraftException e = assertThrows(GraftException.class, () -> Demo.run(
                Demo.Options.defaults(tmp.resolve("run2")).withSources(missing, Demo.DEFAULT_DIGITS), SILENT));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("run2")), "nothing is written when the model is missing");

        // A model that does not take 28x28 grey images: the error names the file, the input and its shape.
        Path resnet = Path.of("tests-resources/models/resnet_small/model.onnx");
        GraftException wrong = assertThrows(GraftException.class, () -> Demo.run(
                Demo.Options.defaults(tmp.resolve("run3")).withSources(resnet, Demo.DEFAULT_DIGITS), SILENT));
        assertTrue(wrong.getMessage().contains(resnet.toString()) && wrong.getMessage().contains("'input'")
                && wrong.getMessage().contains("[-1, 3, 32, 32]"), wrong.getMessage());
        assertFalse(Files.exists(tmp.resolve("run3")), "nothing is written for a model the demo cannot feed");
    }
}
