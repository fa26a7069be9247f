package dev.graft.train.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EpochProgressTest {

    private static Map<String, Object> row(int epoch, double loss) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("epoch", epoch);
        row.put("train_loss", loss);
        row.put("digit_accuracy", 0.5);
        row.put("val_digit_accuracy", Double.NaN);
        row.put("tags_label0_f1", 0.25);
        return row;
    }

    @Test
    void quietPrintsOneLinePerEpoch() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        for (int epoch = 1; epoch <= 3; epoch++) {
            try (EpochProgress p = new EpochProgress(ps, "epoch " + epoch + "/3", 64, true)) {
                p.step(32, Map.of("loss", 0.7));
                p.step(32, Map.of("loss", 0.6));
                assertEquals(64, p.done());
                p.finish(row(epoch, 1.0 / epoch));
            }
        }
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(3, lines.size(), lines.toString());
        for (int epoch = 1; epoch <= 3; epoch++) {
            String line = lines.get(epoch - 1);
            assertTrue(line.startsWith("epoch " + epoch + "/3: ") && line.contains(" ex/s"), line);
            assertTrue(line.contains(String.format("train_loss %.4f", 1.0 / epoch)) && line.contains("digit_accuracy 0.5000"), line);
            assertTrue(line.contains("val_digit_accuracy nan"), line);
            assertFalse(line.contains("label0"), "per-label metrics stay in metrics.json: " + line);
        }
    }

    @Test
    void quietWithoutFinishPrintsNothingAndFinishPrintsOnce() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        try (EpochProgress p = new EpochProgress(ps, "epoch 1/1", 8, true)) {
            p.step(4, Map.of("loss", 0.5));
        }
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        try (EpochProgress p = new EpochProgress(ps, "epoch 1/1", 8, true)) {
            p.finish(row(1, 0.5));
            p.finish(row(1, 0.5));
        }
        assertEquals(1, out.toString(StandardCharsets.UTF_8).lines().count());
    }

    @Test
    void barShowsProgressLossThroughputAndEta() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (EpochProgress p = new EpochProgress(new PrintStream(out, true, StandardCharsets.UTF_8), "epoch 1/1", 10, false)) {
            p.step(5, Map.of("loss", 0.75));
            p.step(5, Map.of("loss", 0.5));
            p.finish(row(1, 0.5));
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("epoch 1/1") && text.contains("100%") && text.contains("10/10 ex"), text);
        assertTrue(text.contains("ex/s"), "throughput: " + text);
        assertTrue(text.contains("loss 0.5000"), "running loss: " + text);
        assertTrue(text.matches("(?s).*\\(\\d+:\\d\\d:\\d\\d / \\d+:\\d\\d:\\d\\d\\).*"), "elapsed / ETA: " + text);
        List<String> lines = text.lines().toList();
        assertTrue(lines.get(lines.size() - 1).startsWith("epoch 1/1: "), "the summary comes last: " + text);
    }

    @Test
    void shortEpochsEndTheBarLineBeforeTheSummary() {
        // an epoch shorter than the bar's update interval closes it before its first tick; the bar's line
        // must still be ended before the summary (this glued them together before the fix)
        for (int i = 0; i < 20; i++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (EpochProgress p = new EpochProgress(new PrintStream(out, true, StandardCharsets.UTF_8), "epoch " + i, 4, false)) {
                p.step(4, Map.of("loss", 0.5));
                p.finish(row(1, 0.5));
            }
            String text = out.toString(StandardCharsets.UTF_8);
            assertTrue(text.contains("\nepoch " + i + ": ") && text.endsWith("\n"), text);
        }
    }

    @Test
    void emptyEpochDoesNotFail() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (EpochProgress p = new EpochProgress(new PrintStream(out, true, StandardCharsets.UTF_8), "epoch 1/1", 0, false)) {
            p.finish(Map.of("epoch", 1));
        }
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("epoch 1/1: "), out.toString(StandardCharsets.UTF_8));
    }
}
