package dev.graft.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.data.Dataset;
import dev.graft.io.Npy;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.surgery.HeadSpec;
import dev.graft.surgery.Surgery;
import dev.graft.train.FitResult;
import dev.graft.train.Freeze;
import dev.graft.train.TrainSettings;
import dev.graft.verify.Agreement;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * models/mnist04_cnn_tf/ is the SavedModel its card describes, graft reads it as TensorFlow trained it (the
 * card's held-out accuracy, TensorFlow Java's own logits), and its trunk transfers to digits 5-9.
 */
class BundledTensorflowModelTest {

    static final Path MODEL = Path.of("models/mnist04_cnn_tf");
    static final Path CARD = Path.of("models/mnist04_cnn_tf.md");
    static final PrintStream QUIET = new PrintStream(java.io.OutputStream.nullOutputStream());

    @Test
    void theFilesAreTheOnesOnItsCard() throws Exception {
        String card = Files.readString(CARD);
        List<String> files;
        try (Stream<Path> walk = Files.walk(MODEL)) {
            files = walk.filter(Files::isRegularFile).map(f -> MODEL.relativize(f).toString().replace('\\', '/')).sorted().toList();
        }
        assertEquals(List.of("saved_model.pb", "variables/variables.data-00000-of-00001", "variables/variables.index"), files);
        // The card's sha256 is that of `sha256sum FILE...` over the sorted files: "<sha256>  <path>\n" per file.
        StringBuilder listing = new StringBuilder();
        long bytes = 0;
        for (String f : files) {
            String sha = ModelCards.sha256(Files.readAllBytes(MODEL.resolve(f)));
            long size = Files.size(MODEL.resolve(f));
            listing.append(sha).append("  ").append(f).append('\n');
            bytes += size;
            Matcher row = Pattern.compile("^\\| `" + Pattern.quote(f) + "` \\| (\\d+) \\| `([0-9a-f]{64})` \\|$", Pattern.MULTILINE).matcher(card);
            assertTrue(row.find(), "the card lists " + f);
            assertEquals(Long.parseLong(row.group(1)), size, f + " bytes");
            assertEquals(row.group(2), sha, f + " sha256");
        }
        assertEquals(ModelCards.cardValue(card, "sha256").replace("`", ""), ModelCards.sha256(listing.toString().getBytes(StandardCharsets.UTF_8)));
        assertEquals(Long.parseLong(ModelCards.cardValue(card, "bytes")), bytes);
        assertTrue(bytes < 1_000_000, "the bundled model stays small: " + bytes);
    }

    @Test
    void graftsAccuracyOnTheHeldOutDigitsIsTheCardsAndMatchesTensorflow() throws Exception {
        // The held-out digits 0-4: the first 1,000 rows of the bundled sample (200 per digit, digits in order),
        // NHWC as the card says; dup(): a contiguous array (see GraftModel.run's note on views in the report).
        INDArray images = Npy.read(Path.of("tests-resources/mnist/x_uint8.npy")).get(NDArrayIndex.interval(0, 1000));
        long[] labels = Npy.read(Path.of("tests-resources/mnist/y.npy")).castTo(DataType.LONG).data().asLong();
        INDArray x = images.castTo(DataType.FLOAT).div(255.0).reshape(1000, 28, 28, 1).dup('c');
        GraftModel m = Graft.load(MODEL);
        assertEquals("tensorflow-savedmodel", m.source().format());
        assertEquals(List.of("image"), m.inputNames());
        assertEquals(List.of("logits"), m.outputNames());
        INDArray logits = m.run(Map.of("image", x), List.of("logits")).get("logits");
        assertEquals(List.of(1000L, 5L), List.of(logits.size(0), logits.size(1)));
        long[] digits04 = java.util.Arrays.copyOf(labels, 1000);
        assertTrue(java.util.Arrays.stream(digits04).allMatch(d -> d <= 4), "the first 1,000 rows are digits 0-4");
        double cardAccuracy = ModelCards.heldOutAccuracy(CARD);
        // The card's accuracy is TensorFlow's on the same 1,000 digits. Logits agree to ~1e-5 (below), so an
        // arg-max can differ only on a near tie: one digit (0.001) is allowed for that, no more.
        assertEquals(cardAccuracy, ModelCards.accuracy(logits, digits04), 0.001 + 1e-9);

        // The reference: TensorFlow Java runs the SavedModel's serving signature itself (no graft code).
        float[] pixels = x.data().asFloat();
        float[] theirs = new float[1000 * 5];
        try (SavedModelBundle b = SavedModelBundle.load(MODEL.toString(), "serve");
                TFloat32 xt = TFloat32.tensorOf(Shape.of(1000, 28, 28, 1), DataBuffers.of(pixels));
                Result r = b.function(Signature.DEFAULT_KEY).call(Map.of("image", xt))) {
            ((TFloat32) r.get("logits").orElseThrow()).copyTo(DataBuffers.of(theirs, false, false));
        }
        // float32 sums of up to 784 products in another order (oneDNN vs libnd4j): 1e-4 absolute on logits
        // of magnitude ~10.
        Agreement a = Agreement.of(Nd4j.create(theirs, new long[] {1000, 5}, 'c'), logits, 1e-4, 1e-5);
        System.out.printf("mnist04_cnn_tf: graft's held-out accuracy %.4f (card %.4f); graft vs TensorFlow logits: %s%n",
                ModelCards.accuracy(logits, digits04), cardAccuracy, a);
        assertTrue(a.within(), a.toString());
    }

    /**
     * What `graft demo` does with the PyTorch model, on the TensorFlow one: cut at the 64 ReLU features, a new
     * softmax head for digits 5-9 (never seen), the head and the trunk's last layer fine-tuned on 30 digits per
     * class, exported to ONNX and checked in ONNX Runtime on 750 held-out digits 5-9.
     */
    @Test
    void itsTrunkTransfersToDigitsFiveToNine() throws Exception {
        INDArray all = Npy.read(Path.of("tests-resources/mnist/x_uint8.npy"));
        long[] digit = Npy.read(Path.of("tests-resources/mnist/y.npy")).castTo(DataType.LONG).data().asLong();
        // Per digit 5-9 of the sample (rows 1000-1999, 200 per digit): rows 0-29 train, rows 50-199 test.
        int[] train = IntStream.range(1000, 2000).filter(i -> i % 200 < 30).toArray();
        int[] test = IntStream.range(1000, 2000).filter(i -> i % 200 >= 50).toArray();
        INDArray xTrain = nhwc(all, train);
        INDArray xTest = nhwc(all, test);
        INDArray yTrain = Nd4j.createFromArray(IntStream.of(train).mapToLong(i -> digit[i] - 5).toArray());
        long[] yTest = IntStream.of(test).mapToLong(i -> digit[i] - 5).toArray();

        GraftModel source = Graft.load(MODEL);
        assertEquals("dense/Relu", Surgery.autoCut(source).tensor(), "auto cut: the 64 ReLU features before the classifier");
        GraftModel model = source.cut("auto").attachHead(HeadSpec.softmax("digit", 5)).freeze(Freeze.last(1));
        double before = ModelCards.accuracy(model.run(Map.of("image", xTest), List.of("digit")).get("digit"), yTest);
        FitResult fit = model.fit(Dataset.of(Map.of("image", xTrain), Map.of("digit", yTrain)),
                TrainSettings.defaults().withEpochs(20).withBatchSize(32).withLearningRate(0.01).withSeed(7).withProgress(QUIET, true));
        INDArray after = model.run(Map.of("image", xTest), List.of("digit")).get("digit");
        double afterAccuracy = ModelCards.accuracy(after, yTest);
        System.out.printf("mnist04_cnn_tf transfer to digits 5-9: accuracy %.3f -> %.3f on %d held-out digits, train loss %s -> %s%n",
                before, afterAccuracy, test.length, fit.history().get(0).get("train_loss"),
                fit.history().get(fit.history().size() - 1).get("train_loss"));
        // An untrained 5-way head is near chance (0.2); 30 examples per class on the transferred features reach
        // well above that (0.877 measured when this test was written, from 0.179); 0.75 leaves room for run-to-run noise.
        assertTrue(afterAccuracy > 0.75, "fine-tuned accuracy " + afterAccuracy + " (before " + before + ")");
        assertTrue(afterAccuracy > before + 0.3, before + " -> " + afterAccuracy);

        Path onnx = Path.of("target/exported-models/models/mnist04_cnn_tf_digits5to9.onnx");
        Files.createDirectories(onnx.getParent());
        model.exportOnnx(onnx);
        try (OrtRunner ort = new OrtRunner(onnx)) {
            assertEquals(List.of("digit"), ort.outputNames());
            INDArray theirs = ort.run(Map.of("image", xTest), List.of("digit")).get("digit");
            // Softmax probabilities from float32 sums in another order: 1e-4 absolute.
            Agreement a = Agreement.of(theirs, after, 1e-4, 0);
            assertTrue(a.within(), a.toString());
            assertEquals(afterAccuracy, ModelCards.accuracy(theirs, yTest), 1.0 / test.length + 1e-9, "ONNX Runtime's accuracy, up to one near tie");
        }
    }

    /** Rows of the uint8 sample as float32 pixel / 255, NHWC [n, 28, 28, 1], contiguous. */
    static INDArray nhwc(INDArray images, int[] rows) {
        List<INDArray> picked = new ArrayList<>();
        for (int r : rows) picked.add(images.get(NDArrayIndex.point(r)).castTo(DataType.FLOAT).div(255.0).reshape(1, 28, 28, 1));
        return Nd4j.concat(0, picked.toArray(INDArray[]::new)).dup('c');
    }



}
