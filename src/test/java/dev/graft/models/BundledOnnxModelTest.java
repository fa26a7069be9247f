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
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(MODEL)));
        assertEquals(cardValue(card, "sha256").replace("`", ""), sha);
        assertEquals(Long.parseLong(cardValue(card, "bytes")), Files.size(MODEL));
    }

    @Test
    void grafsAccuracyOnTheHeldOutDigitsIsTheCardsAndMatchesOnnxRuntime() throws Exception {
        // The held-out digits 0-4: the first 1,000 rows of the bundled sample (200 per digit, digits in order).
        INDArray images = Npy.read(Path.of("tests-resources/mnist/x_uint8.npy")).get(NDArrayIndex.interval(0, 1000));
        long[] labels = Npy.read(Path.of("tests-resources/mnist/y.npy")).castTo(DataType.LONG).data().asLong();
        INDArray x = images.castTo(DataType.FLOAT).div(255.0).reshape(1000, 1, 28, 28);
        GraftModel m = Graft.load(MODEL);
        INDArray logits = m.run(Map.of("image", x), List.of("logits")).get("logits");
        long[] predicted = logits.argMax(1).castTo(DataType.LONG).data().asLong();
        int right = 0;
        for (int i = 0; i < 1000; i++) {
            assertTrue(labels[i] <= 4, "row " + i + " is a digit 0-4");
            right += predicted[i] == labels[i] ? 1 : 0;
        }
        double cardAccuracy = Double.parseDouble(cardValue(Files.readString(CARD), "held-out accuracy").replaceAll("\\*\\*([0-9.]+)\\*\\*.*", "$1"));
        // The card's accuracy is PyTorch's on the same 1,000 digits. Logits agree to ~1e-5 (below), so an
        // arg-max can differ only on a near tie: one digit (0.001) is allowed for that, no more.
        assertEquals(cardAccuracy, right / 1000.0, 0.001 + 1e-9);
        try (OrtRunner ort = new OrtRunner(MODEL)) {
            INDArray theirs = ort.run(Map.of("image", x), List.of("logits")).get("logits");
            // float32 sums of up to 784 products in a different order: 1e-4 absolute on logits of magnitude ~10.
            Agreement a = Agreement.of(theirs, logits, 1e-4, 1e-5);
            assertTrue(a.within(), a.toString());
        }
    }

    /** The value of a row {@code | key | value |} of the card's table. */
    static String cardValue(String card, String key) {
        Matcher m = Pattern.compile("^\\| " + Pattern.quote(key) + " \\| (.+?) \\|$", Pattern.MULTILINE).matcher(card);
        assertTrue(m.find(), "the card has a row '" + key + "'");
        return m.group(1).trim();
    }
}
