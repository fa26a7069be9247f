package dev.graft.train.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CurvePlotTest {

    static {
        System.setProperty("java.awt.headless", "true"); // before any AWT class loads in this JVM
    }

    @TempDir
    Path dir;

    /** Two heads over 4 epochs; the tags head's validation F1 has no data at all (NaN in every epoch). */
    private static MetricsLog twoHeads() {
        MetricsLog log = new MetricsLog();
        for (int e = 1; e <= 4; e++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", e);
            row.put("train_loss", 2.0 / e);
            row.put("val_loss", 2.2 / e);
            row.put("digit_accuracy", 0.5 + e / 10.0);
            row.put("digit_macro_f1", 0.4 + e / 10.0);
            row.put("val_digit_accuracy", e == 3 ? Double.NaN : 0.45 + e / 10.0);
            row.put("val_digit_macro_f1", 0.35 + e / 10.0);
            row.put("tags_f1", 0.3);
            row.put("val_tags_f1", Double.NaN);
            row.put("tags_label0_f1", 0.3);
            row.put("val_tags_label0_f1", 0.2);
            log.add(row);
        }
        return log;
    }

    @Test
    void panelsGroupTrainAndValidationAndSkipPerLabel() {
        Map<String, List<String>> p = CurvePlot.panels(twoHeads());
        assertEquals(List.of("loss", "digit_accuracy", "digit_macro_f1", "tags_f1"), List.copyOf(p.keySet()));
        assertEquals(List.of("train_loss", "val_loss"), p.get("loss"));
        assertEquals(List.of("digit_accuracy", "val_digit_accuracy"), p.get("digit_accuracy"));
        assertEquals(List.of("tags_f1", "val_tags_f1"), p.get("tags_f1"));
    }

    @Test
    void writesAPngWithEveryPanelDrawn() throws Exception {
        Path png = dir.resolve("curves.png");
        CurvePlot.write(twoHeads(), png, "job.yaml: digit, tags");
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "a PNG ImageIO can read");
        // 4 panels: 3 columns, 2 rows
        assertEquals(3 * CurvePlot.PANEL_WIDTH, img.getWidth());
        assertEquals(CurvePlot.TITLE_HEIGHT + 2 * CurvePlot.PANEL_HEIGHT, img.getHeight());
        // every panel holds pixels of the train curve's colour (the first palette colour; the markers are
        // filled in it, so exact pixels exist despite anti-aliasing); the title area is not blank
        int train = 0xFF000000 | (31 << 16) | (119 << 8) | 180;
        for (int i = 0; i < 4; i++) {
            int x0 = (i % 3) * CurvePlot.PANEL_WIDTH;
            int y0 = CurvePlot.TITLE_HEIGHT + (i / 3) * CurvePlot.PANEL_HEIGHT;
            assertTrue(count(img, x0, y0, CurvePlot.PANEL_WIDTH, CurvePlot.PANEL_HEIGHT, train) > 10, "panel " + i + " has a train curve");
        }
        int validation = 0xFF000000 | (255 << 16) | (127 << 8) | 14;
        assertTrue(count(img, 0, CurvePlot.TITLE_HEIGHT, CurvePlot.PANEL_WIDTH, CurvePlot.PANEL_HEIGHT, validation) > 10, "val_loss is drawn");
        assertTrue(count(img, 0, 0, img.getWidth(), CurvePlot.TITLE_HEIGHT, 0xFFFFFFFF) < img.getWidth() * CurvePlot.TITLE_HEIGHT, "a title");
        // the empty sixth grid cell stays white
        assertEquals(CurvePlot.PANEL_WIDTH * CurvePlot.PANEL_HEIGHT,
                count(img, 2 * CurvePlot.PANEL_WIDTH, CurvePlot.TITLE_HEIGHT + CurvePlot.PANEL_HEIGHT, CurvePlot.PANEL_WIDTH, CurvePlot.PANEL_HEIGHT, 0xFFFFFFFF));
    }

    @Test
    void oneEpochAndNoEpochsStillGiveAnImage() throws Exception {
        MetricsLog one = new MetricsLog();
        one.add(Map.of("epoch", 1, "train_loss", 0.7));
        Path png = dir.resolve("one.png");
        CurvePlot.write(one, png, "one epoch");
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(CurvePlot.PANEL_WIDTH, img.getWidth());
        assertEquals(CurvePlot.TITLE_HEIGHT + CurvePlot.PANEL_HEIGHT, img.getHeight());
        assertTrue(count(img, 0, 0, img.getWidth(), img.getHeight(), 0xFFFFFFFF) < img.getWidth() * img.getHeight());

        Path empty = dir.resolve("empty.png");
        CurvePlot.write(new MetricsLog(), empty, "no epochs");
        assertNotNull(ImageIO.read(empty.toFile()));
    }

    @Test
    void niceSteps() {
        assertEquals(0.5, CurvePlot.niceStep(0.23), 1e-15);
        assertEquals(0.2, CurvePlot.niceStep(0.2), 1e-15);
        assertEquals(10, CurvePlot.niceStep(6), 1e-12);
        assertEquals(1e-3, CurvePlot.niceStep(0.0009), 1e-18);
    }

    private static int count(BufferedImage img, int x0, int y0, int w, int h, int argb) {
        int n = 0;
        for (int y = y0; y < y0 + h; y++) for (int x = x0; x < x0 + w; x++) if (img.getRGB(x, y) == argb) n++;
        return n;
    }
}
