package dev.graft.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What the bundled models' tests read from a card (models/<name>.md) and how they score a model. */
final class ModelCards {
    private ModelCards() {
    }

    /** The value of a row {@code | key | value |} of the card's table. */
    static String cardValue(String card, String key) {
        Matcher m = Pattern.compile("^\\| " + Pattern.quote(key) + " \\| (.+?) \\|$", Pattern.MULTILINE).matcher(card);
        assertTrue(m.find(), "the card has a row '" + key + "'");
        return m.group(1).trim();
    }

    /** The bold number of the card's {@code | held-out accuracy | **0.9690** ... |} row. */
    static double heldOutAccuracy(Path card) throws IOException {
        return Double.parseDouble(cardValue(Files.readString(card), "held-out accuracy").replaceAll("\\*\\*([0-9.]+)\\*\\*.*", "$1"));
    }

    /** The share of rows whose arg-max over the scores is the label. */
    static double accuracy(INDArray scores, long[] labels) {
        long[] predicted = scores.argMax(1).castTo(DataType.LONG).data().asLong();
        int right = 0;
        for (int i = 0; i < labels.length; i++) right += predicted[i] == labels[i] ? 1 : 0;
        return (double) right / labels.length;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
