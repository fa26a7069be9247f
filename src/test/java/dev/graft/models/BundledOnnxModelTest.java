package dev.graft.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.io.Npy;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** models/mnist04_cnn_torch.onnx is the file its card describes, and graft reads it as PyTorch trained it. */
class BundledOnnxModelTest {

    static final Path MODEL = Path.of("models/mnist04_cnn_torch.onnx");
    static final Path CARD = Path.of("models/mnist04_cnn_torch.md");

    @Test
    void theFileIsTheOneOnItsCard() throws Exception {
        String card = Files.readString(CARD);
        String sha = ModelCards.sha256(Files.readAllBytes(MODEL));
        assertEquals(ModelCards.cardValue(card, "sha256").replace("`", ""), sha);
        assertEquals(Long.parseLong(ModelCards.cardValue(card, "bytes")), Files.size(MODEL));
    }

    @Test
    void grafsAccuracyOnTheHeldOutDigitsIsTheCardsAndMatchesOnnxRuntime() throws Exception {
        // The held-out digits 0-4: the first 1,000 rows of the bundled sample (200 per digit, digits in order).
        INDArray images = Npy.read(Path.of("tests-resources/mnist/x_uint8.npy")).get(NDArrayIndex.interval(0, 1000));
        long[] labels = Npy.read(Path.of("tests-resources/mnist/y.npy")).castTo(DataType.LONG).data().asLong();
        INDArray x = images.castTo(DataType.FLOAT).div(255.0).reshape(1000, 1, 28, 28);
        GraftModel m = Graft.load(MODEL);
        INDArray logits = m.run(Map.of("image", x), List.of("logits")).get("logits");
        long[] digits04 = java.util.Arrays.copyOf(labels, 1000);
        assertTrue(java.util.Arrays.stream(digits04).allMatch(d -> d <= 4), "the first 1,000 rows are digits 0-4");
        double cardAccuracy = ModelCards.heldOutAccuracy(CARD);
        // The card's accuracy is PyTorch's on the same 1,000 digits. Logits agree to ~1e-5 (below), so an
        // arg-max can differ only on a near tie: one digit (0.001) is allowed for that, no more.
        assertEquals(cardAccuracy, ModelCards.accuracy(logits, digits04), 0.001 + 1e-9);
        try (OrtRunner ort = new OrtRunner(MODEL)) {
            INDArray theirs = ort.run(Map.of("image", x), List.of("logits")).get("logits");
            // float32 sums of up to 784 products in a different order: 1e-4 absolute on logits of magnitude ~10.
            Agreement a = Agreement.of(theirs, logits, 1e-4, 1e-5);
            assertTrue(a.within(), a.toString());
        }
    }

}
