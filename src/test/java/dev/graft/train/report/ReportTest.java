package dev.graft.train.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/** Metrics against values worked out by hand (in the comments); the run report's files. */
class ReportTest {

    @TempDir
    Path dir;

    @Test
    void classMetricsLeaveMissingLabelsOut() {
        // predictions (argmax): 0, 1, 1, 2, 0; labels: 0, 1, 2, -1 (missing), 0
        var probs = Nd4j.createFromArray(new float[][]{{.9f, .1f, 0}, {.2f, .7f, .1f}, {.1f, .6f, .3f}, {0, .2f, .8f}, {.5f, .4f, .1f}});
        var labels = Nd4j.createFromArray(0L, 1L, 2L, -1L, 0L);
        Map<String, Double> m = HeadMetrics.classes(probs, labels);
        // 4 labelled rows, 3 right: accuracy 0.75.
        assertEquals(0.75, m.get("accuracy"), 1e-12);
        // F1: class 0: tp 2 -> 1.0; class 1: tp 1, fp 1 -> 2/3; class 2: fn 1 -> 0. Mean 5/9.
        assertEquals(5.0 / 9, m.get("macro_f1"), 1e-12);
        assertTrue(HeadMetrics.classes(probs, Nd4j.createFromArray(-1L, -1L, -1L, -1L, -1L)).get("accuracy").isNaN());
    }

    @Test
    void multiLabelAndValueMetrics() {
        var probs = Nd4j.createFromArray(new float[][]{{.9f, .2f}, {.4f, .8f}, {.6f, .1f}});
        var labels = Nd4j.createFromArray(new float[][]{{1, 0}, {Float.NaN, 1}, {0, Float.NaN}});
        Map<String, Double> m = HeadMetrics.multiLabel(probs, labels);
        // label 0: rows 1 and 3 present; predicted 1, 1; truth 1, 0 -> accuracy 1/2, tp 1 fp 1 -> F1 2/3
        assertEquals(0.5, m.get("label0_accuracy"), 1e-12);
        assertEquals(2.0 / 3, m.get("label0_f1"), 1e-12);
        // label 1: rows 1 and 2; predicted 0, 1; truth 0, 1 -> accuracy 1, F1 1
        assertEquals(1.0, m.get("label1_accuracy"), 1e-12);
        assertEquals(0.75, m.get("accuracy"), 1e-12);
        assertEquals((2.0 / 3 + 1) / 2, m.get("f1"), 1e-12);
        // |1-0.5| + |3-2| over two present targets = 0.75
        var mae = HeadMetrics.values(Nd4j.createFromArray(new float[][]{{1}, {9}, {3}}), Nd4j.createFromArray(new float[][]{{0.5f}, {Float.NaN}, {2}}));
        assertEquals(0.75, mae.get("mae"), 1e-12);
    }

    @Test
    void metricsJsonRoundTripsWithNaNAsNull() throws Exception {
        MetricsLog log = new MetricsLog();
        for (int e = 1; e <= 3; e++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", e);
            row.put("train_loss", 1.0 / e);
            row.put("val_loss", 1.2 / e);
            row.put("digit_accuracy", 0.5 + e / 10.0);
            row.put("val_digit_accuracy", e == 2 ? Double.NaN : 0.4 + e / 10.0);
            log.add(row);
        }
        Path json = dir.resolve("metrics.json");
        log.write(json);
        assertTrue(Files.readString(json).contains("\"val_digit_accuracy\" : null"), Files.readString(json));
        MetricsLog back = MetricsLog.read(json);
        assertEquals(3, back.history().size());
        assertEquals(0.5, ((Number) back.history().get(1).get("train_loss")).doubleValue(), 1e-15);
        assertTrue(((Double) back.history().get(1).get("val_digit_accuracy")).isNaN());

        Path png = dir.resolve("curves.png");
        CurvePlot.write(back, png, "test run");
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img);
        assertEquals(2, img.getWidth() / 420, "a loss panel and an accuracy panel");
        int first = img.getRGB(0, 0);
        boolean drawn = false;
        for (int y = 0; y < img.getHeight() && !drawn; y += 3) for (int x = 0; x < img.getWidth(); x += 3) drawn |= img.getRGB(x, y) != first;
        assertTrue(drawn, "the plot is not blank");
    }

    @Test
    void quietProgressPrintsOneLinePerEpoch() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (EpochProgress p = new EpochProgress(new PrintStream(out, true), "epoch 1/2", 64, true)) {
            p.step(32, Map.of("loss", 0.7));
            p.step(32, Map.of("loss", 0.6));
            p.finish(Map.of("epoch", 1, "train_loss", 0.65));
        }
        String text = out.toString();
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.startsWith("epoch 1/2: ") && text.contains("train_loss 0.6500"), text);
        ByteArrayOutputStream bar = new ByteArrayOutputStream();
        try (EpochProgress p = new EpochProgress(new PrintStream(bar, true), "epoch 1/1", 10, false)) {
            p.step(10, Map.of("loss", 0.5));
            p.finish(Map.of("epoch", 1, "train_loss", 0.5));
        }
        assertTrue(bar.toString().contains("epoch 1/1") && bar.toString().contains("100%"), bar.toString());
    }
}
