package dev.graft.data;

import static dev.graft.data.DataAssert.assertFails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.TensorInfo;
import dev.graft.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A folder of .npy files: what loads, and every way it can be wrong, named by file and row. */
class NpyDirectoryTest {

    @TempDir
    Path dir;

    static final List<TensorInfo> ONE_INPUT = List.of(new TensorInfo("input", DataType.FLOAT, new long[]{-1, 3}, null));
    static final HeadLabels DIGIT = new HeadLabels("digit", LabelKind.CLASSES, 4);
    static final HeadLabels TAGS = new HeadLabels("tags", LabelKind.MULTI_LABEL, 2);
    static final HeadLabels AGE = new HeadLabels("age", LabelKind.VALUES, 1);
    static final List<HeadLabels> HEADS = List.of(DIGIT, TAGS);

    void put(String file, INDArray a) {
        Npy.write(a, dir.resolve(file));
    }

    @BeforeEach
    void goodFolder() {
        put("x.npy", Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}));
        put("y_digit.npy", Nd4j.createFromArray(0L, -1L, 3L));
        put("y_tags.npy", Nd4j.createFromArray(new float[][]{{1, 0}, {Float.NaN, 1}, {0, Float.NaN}}));
    }

    @Test
    void loadsInputsAndLabelsWithMissingEntries() {
        Dataset d = Datasets.npyDirectory(dir, ONE_INPUT, HEADS);
        assertEquals(3, d.size());
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6, 7, 8, 9}, d.inputs().get("input").dup('c').data().asFloat());
        INDArray digit = d.labels().get("digit");
        assertEquals(DataType.LONG, digit.dataType());
        assertArrayEquals(new long[]{0, -1, 3}, digit.dup().data().asLong());
        INDArray tags = d.labels().get("tags");
        assertEquals(DataType.FLOAT, tags.dataType());
        assertArrayEquals(new long[]{3, 2}, tags.shape());
        assertTrue(Float.isNaN(tags.getFloat(1, 0)));
        assertTrue(Float.isNaN(tags.getFloat(2, 1)));
        assertEquals(1f, tags.getFloat(1, 1));
    }

    @Test
    void namedInputsCastsAndLooseLabelShapes() {
        List<TensorInfo> two = List.of(new TensorInfo("a", DataType.FLOAT, new long[]{-1, 2}, null),
                new TensorInfo("b", DataType.FLOAT, null, null));
        Path d2 = dir.resolve("two");
        put("two/x_a.npy", Nd4j.createFromArray(new double[][]{{0.5, 1.5}, {2.5, 3.5}}));
        put("two/x_b.npy", Nd4j.createFromArray(new float[][][]{{{1}}, {{2}}}));
        put("two/y_digit.npy", Nd4j.createFromArray(new int[][]{{2}, {-1}})); // [n, 1] int32 class indices
        put("two/y_age.npy", Nd4j.createFromArray(30.5, Double.NaN)); // [n] for a head of one value
        Dataset d = Datasets.npyDirectory(d2, two, List.of(DIGIT, AGE));
        assertEquals(DataType.FLOAT, d.inputs().get("a").dataType(), "cast to the model input's type");
        assertArrayEquals(new float[]{0.5f, 1.5f, 2.5f, 3.5f}, d.inputs().get("a").dup('c').data().asFloat());
        assertArrayEquals(new long[]{2, 1, 1}, d.inputs().get("b").shape());
        assertArrayEquals(new long[]{2, -1}, d.labels().get("digit").dup().data().asLong());
        assertArrayEquals(new long[]{2, 1}, d.labels().get("age").shape());
        assertEquals(30.5f, d.labels().get("age").getFloat(0, 0));
        assertTrue(Float.isNaN(d.labels().get("age").getFloat(1, 0)));
        // a single-input model may name its file x_<input>.npy too
        Path d3 = dir.resolve("named");
        put("named/x_input.npy", Nd4j.createFromArray(new float[][]{{1, 2, 3}}));
        put("named/y_age.npy", Nd4j.createFromArray(new float[][]{{4}}));
        assertEquals(1, Datasets.npyDirectory(d3, ONE_INPUT, List.of(AGE)).size());
    }

    @Test
    void missingOrUnexpectedFilesAreNamed() throws Exception {
        assertFails(() -> Datasets.npyDirectory(dir.resolve("nope"), ONE_INPUT, HEADS), "nope: no such dataset folder");
        Files.delete(dir.resolve("y_tags.npy"));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS),
                "no y_tags.npy for head 'tags'; the folder has [x.npy, y_digit.npy]");
        put("y_tags.npy", Nd4j.createFromArray(new float[][]{{1, 0}, {0, 1}, {0, 0}}));
        put("y_colour.npy", Nd4j.createFromArray(1L, 2L, 3L));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "y_colour.npy: no head named 'colour' (heads: [digit, tags])");
        Files.delete(dir.resolve("y_colour.npy"));
        Files.delete(dir.resolve("x.npy"));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS),
                "no x.npy (or x_input.npy) for model input 'input'; the folder has [y_digit.npy, y_tags.npy]");
        put("x_pixels.npy", Nd4j.createFromArray(new float[][]{{1, 2, 3}}));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "x_pixels.npy: no model input named 'pixels' (model inputs: [input])");
        Files.delete(dir.resolve("x_pixels.npy"));
        put("x.npy", Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}));
        put("x_input.npy", Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "both x.npy and x_input.npy are there");
        List<TensorInfo> two = List.of(new TensorInfo("input", DataType.FLOAT, null, null), new TensorInfo("mask", DataType.FLOAT, null, null));
        Files.delete(dir.resolve("x_input.npy"));
        assertFails(() -> Datasets.npyDirectory(dir, two, HEADS), "x.npy: the model has 2 inputs [input, mask]; give one x_<input>.npy per input");
        Files.delete(dir.resolve("x.npy"));
        put("x_input.npy", Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}));
        assertFails(() -> Datasets.npyDirectory(dir, two, HEADS), "no x_mask.npy for model input 'mask'");
        put("x_mask.npy", Nd4j.createFromArray(new float[][]{{1}, {1}}));
        assertFails(() -> Datasets.npyDirectory(dir, two, HEADS), "x_mask.npy: 2 rows, x_input.npy has 3");
    }

    @Test
    void wrongShapesAreNamed() {
        put("x.npy", Nd4j.createFromArray(new float[][]{{1, 2}, {4, 5}, {7, 8}}));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "x.npy: shape [3, 2] does not fit model input 'input' [?, 3]");
        put("x.npy", Nd4j.createFromArray(1f, 2f, 3f));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "x.npy: shape [3] does not fit");
        put("x.npy", Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, 5, 6}}));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "y_digit.npy: 3 rows, the inputs have 2");
        put("x.npy", Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}));
        put("y_tags.npy", Nd4j.createFromArray(new float[][]{{1, 0, 1}, {0, 1, 1}, {0, 0, 1}}));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "y_tags.npy: head 'tags' needs [n, 2] labels, got [3, 3]");
        put("y_tags.npy", Nd4j.createFromArray(new float[][]{{1, 0}, {0, 1}, {0, 0}}));
        put("y_digit.npy", Nd4j.createFromArray(new long[][]{{0, 1}, {1, 2}, {2, 3}}));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "y_digit.npy: head 'digit' takes one class index per row ([n]), got [3, 2]");
    }

    @Test
    void badLabelsNameFileAndRow() {
        put("y_digit.npy", Nd4j.createFromArray(0L, 1L, 4L));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "y_digit.npy: row 3 has label 4.0; head 'digit' takes class indices 0..3, or -1");
        put("y_digit.npy", Nd4j.createFromArray(0L, -2L, 1L));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "y_digit.npy: row 2 has label -2.0");
        put("y_digit.npy", Nd4j.createFromArray(0f, 1.5f, 1f));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "y_digit.npy: row 2 has label 1.5");
        put("y_digit.npy", Nd4j.createFromArray(0L, 1L, 2L));
        put("y_tags.npy", Nd4j.createFromArray(new float[][]{{1, 0}, {0, 1}, {0, 2}}));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "y_tags.npy: row 3, label 1 is 2.0; multi-label targets are 0 or 1");
        put("y_tags.npy", Nd4j.createFromArray(new float[][]{{1, 0}, {0, 1}, {0, 0}}));
        put("y_age.npy", Nd4j.createFromArray(new float[][]{{1}, {Float.POSITIVE_INFINITY}, {3}}));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, List.of(DIGIT, TAGS, AGE)), "y_age.npy: row 2, value 0 is Infinity");
    }

    @Test
    void nonFiniteInputsNameFileAndFirstRow() {
        put("x.npy", Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, 5, 6}, {Float.NaN, 8, Float.NaN}}));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "x.npy: row 3 holds NaN; inputs must be finite");
        put("x.npy", Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, Float.NEGATIVE_INFINITY, 6}, {Float.NaN, 8, 9}}));
        assertFails(() -> Datasets.npyDirectory(dir, ONE_INPUT, HEADS), "x.npy: row 2 holds -Infinity");
    }
}
