package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.GraftException;
import dev.graft.TensorInfo;
import dev.graft.io.Npy;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Each loader, and each way data can be wrong, with the message naming file and row. */
class DatasetsTest {

    @TempDir
    Path dir;

    static final List<TensorInfo> INPUT = List.of(new TensorInfo("input", DataType.FLOAT, new long[]{-1, 3}, null));
    static final List<HeadLabels> HEADS = List.of(new HeadLabels("digit", LabelKind.CLASSES, 4),
            new HeadLabels("tags", LabelKind.MULTI_LABEL, 2));

    void write(float[][] x, long[] digit, float[][] tags) {
        Npy.write(Nd4j.createFromArray(x), dir.resolve("x.npy"));
        Npy.write(Nd4j.createFromArray(digit), dir.resolve("y_digit.npy"));
        Npy.write(Nd4j.createFromArray(tags), dir.resolve("y_tags.npy"));
    }

    @Test
    void npyFolderLoadsWithMissingLabels() {
        write(new float[][]{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}, new long[]{0, -1, 3}, new float[][]{{1, 0}, {Float.NaN, 1}, {0, 0}});
        Dataset d = Datasets.npyDirectory(dir, INPUT, HEADS);
        assertEquals(3, d.size());
        Batch b = d.batch(new int[]{2, 0});
        assertArrayEquals(new float[]{7, 8, 9, 1, 2, 3}, b.inputs().get("input").dup().data().asFloat());
        assertArrayEquals(new long[]{3, 0}, b.labels().get("digit").dup().data().asLong());
        Dataset[] parts = d.split(1.0 / 3, 5);
        assertEquals(2, parts[0].size());
        assertEquals(1, parts[1].size());
    }

    @Test
    void npyErrorsNameFileAndRow() throws Exception {
        write(new float[][]{{1, 2, 3}, {4, Float.NaN, 6}}, new long[]{0, 1}, new float[][]{{1, 0}, {0, 1}});
        assertMessage(() -> Datasets.npyDirectory(dir, INPUT, HEADS), "x.npy: row 2 holds NaN");
        write(new float[][]{{1, 2, 3}, {4, 5, 6}}, new long[]{0, 4}, new float[][]{{1, 0}, {0, 1}});
        assertMessage(() -> Datasets.npyDirectory(dir, INPUT, HEADS), "y_digit.npy: row 2 has label 4.0");
        write(new float[][]{{1, 2}, {4, 5}}, new long[]{0, 1}, new float[][]{{1, 0}, {0, 1}});
        assertMessage(() -> Datasets.npyDirectory(dir, INPUT, HEADS), "x.npy: shape [2, 2] does not fit model input 'input' [?, 3]");
        write(new float[][]{{1, 2, 3}, {4, 5, 6}}, new long[]{0, 1, 2}, new float[][]{{1, 0}, {0, 1}});
        assertMessage(() -> Datasets.npyDirectory(dir, INPUT, HEADS), "y_digit.npy: 3 rows, the inputs have 2");
        write(new float[][]{{1, 2, 3}, {4, 5, 6}}, new long[]{0, 1}, new float[][]{{1, 0}, {0, 1}});
        Npy.write(Nd4j.createFromArray(1f, 2f), dir.resolve("y_other.npy"));
        assertMessage(() -> Datasets.npyDirectory(dir, INPUT, HEADS), "y_other.npy: no head named 'other'");
        Files.delete(dir.resolve("y_other.npy"));
        Files.delete(dir.resolve("y_tags.npy"));
        assertMessage(() -> Datasets.npyDirectory(dir, INPUT, HEADS), "no y_tags.npy for head 'tags'");
    }

    @Test
    void imageFoldersGiveOneClassPerFolder() throws Exception {
        for (String cls : new String[]{"cat", "dog"}) {
            Files.createDirectories(dir.resolve(cls));
            for (int i = 0; i < 2; i++) {
                BufferedImage img = new BufferedImage(8, 6, BufferedImage.TYPE_INT_RGB);
                var g = img.createGraphics();
                g.setColor(cls.equals("cat") ? Color.RED : Color.BLUE);
                g.fillRect(0, 0, 8, 6);
                g.dispose();
                ImageIO.write(img, "png", dir.resolve(cls).resolve(i + ".png").toFile());
            }
        }
        ImageOptions o = new ImageOptions(4, 4, 3, false, true, new float[]{0.5f, 0.5f, 0.5f}, new float[]{0.5f, 0.5f, 0.5f}, null);
        Dataset d = Datasets.imageFolders(dir, o, "input", new HeadLabels("animal", LabelKind.CLASSES, 2));
        assertEquals(4, d.size());
        assertArrayEquals(new long[]{4, 3, 4, 4}, d.inputs().get("input").shape());
        assertArrayEquals(new long[]{0, 0, 1, 1}, d.labels().get("animal").dup().data().asLong());
        // a red pixel: R (1 - 0.5) / 0.5 = 1, B (0 - 0.5) / 0.5 = -1
        assertEquals(1f, d.inputs().get("input").getFloat(0, 0, 0, 0), 1e-6);
        assertEquals(-1f, d.inputs().get("input").getFloat(0, 2, 0, 0), 1e-6);
        Files.writeString(dir.resolve("dog").resolve("broken.png"), "not a png");
        assertMessage(() -> Datasets.imageFolders(dir, o, "input", new HeadLabels("animal", LabelKind.CLASSES, 2)), "broken.png: not an image");
    }

    @Test
    void csvWithQuestionMarksForMissingLabels() throws Exception {
        Path csv = dir.resolve("d.csv");
        Files.writeString(csv, "a,b,digit,t0,t1\n1,2,3,1,0\n4,5,?,?,1\n");
        CsvOptions o = new CsvOptions(List.of(), Map.of("digit", List.of("digit"), "tags", List.of("t0", "t1")));
        Dataset d = Datasets.csv(csv, o, "input", HEADS);
        assertArrayEquals(new float[]{1, 2, 4, 5}, d.inputs().get("input").dup().data().asFloat());
        assertArrayEquals(new long[]{3, -1}, d.labels().get("digit").dup().data().asLong());
        assertTrue(Float.isNaN(d.labels().get("tags").getFloat(1, 0)));
        Files.writeString(csv, "a,b,digit,t0,t1\n1,2,3,1,0\n4,x,1,0,1\n");
        assertMessage(() -> Datasets.csv(csv, o, "input", HEADS), "d.csv: row 3, column 'b': 'x' is not a number");
    }

    static void assertMessage(Runnable r, String part) {
        GraftException e = assertThrows(GraftException.class, r::run);
        assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
}
