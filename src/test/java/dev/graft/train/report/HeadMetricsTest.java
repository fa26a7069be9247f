package dev.graft.train.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.GraftException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Head metrics against values worked out by hand in the comments. All expected values are exact
 * fractions of small counts; the tolerance 1e-12 only absorbs double rounding of those fractions.
 */
class HeadMetricsTest {

    private static final double EXACT = 1e-12;

    // predictions (arg-max): 0, 1, 1, 2, 0, 2
    private static final float[][] PROBS = {{.7f, .2f, .1f}, {.1f, .8f, .1f}, {.3f, .4f, .3f}, {.2f, .2f, .6f}, {.5f, .3f, .2f}, {.1f, .1f, .8f}};
    // labels:                    0, 1, 0, -, 1, -
    private static final long[] LABELS = {0, 1, 0, -1, 1, -1};

    @Test
    void classesCountOnlyLabelledRows() {
        Map<String, Double> m = HeadMetrics.classes(Nd4j.createFromArray(PROBS), Nd4j.createFromArray(LABELS));
        // labelled rows 0, 1, 2, 4: right, right, wrong, wrong -> accuracy 2/4
        assertEquals(0.5, m.get("accuracy"), EXACT);
        // class 0: tp 1 (row 0), fn 1 (row 2), fp 1 (row 4) -> F1 2/(2+1+1) = 0.5
        // class 1: tp 1 (row 1), fp 1 (row 2), fn 1 (row 4) -> 0.5
        // class 2: predicted only on the unlabelled rows 3 and 5 -> neither true nor predicted: left out
        // (counting those rows would add class 2 with F1 0 and give 1/3)
        assertEquals(0.5, m.get("macro_f1"), EXACT);
    }

    @Test
    void rowsWithMissingLabelsChangeNothing() {
        // the same metrics as computing on the labelled rows alone
        INDArray kept = Nd4j.createFromArray(new float[][]{PROBS[0], PROBS[1], PROBS[2], PROBS[4]});
        assertEquals(HeadMetrics.classes(kept, Nd4j.createFromArray(0L, 1L, 0L, 1L)),
                HeadMetrics.classes(Nd4j.createFromArray(PROBS), Nd4j.createFromArray(LABELS)));
    }

    @Test
    void classOnlyPredictedCountsInMacroF1() {
        // labels 0, 0; predicted 0, 1 (k = 3): class 0 tp 1 fn 1 -> 2/3; class 1 fp 1 -> 0; class 2 left out
        Map<String, Double> m = HeadMetrics.classes(Nd4j.createFromArray(new float[][]{{.9f, .05f, .05f}, {.2f, .7f, .1f}}),
                Nd4j.createFromArray(0L, 0L));
        assertEquals(0.5, m.get("accuracy"), EXACT);
        assertEquals((2.0 / 3 + 0) / 2, m.get("macro_f1"), EXACT);
    }

    @Test
    void classLabelsOfOtherTypesAndShapes() {
        Map<String, Double> expected = HeadMetrics.classes(Nd4j.createFromArray(PROBS), Nd4j.createFromArray(LABELS));
        INDArray probs = Nd4j.createFromArray(PROBS);
        assertEquals(expected, HeadMetrics.classes(probs, Nd4j.createFromArray(0, 1, 0, -1, 1, -1)), "INT labels");
        assertEquals(expected, HeadMetrics.classes(probs, Nd4j.createFromArray(0f, 1f, 0f, Float.NaN, 1f, -1f)), "float labels, NaN missing");
        assertEquals(expected, HeadMetrics.classes(probs, Nd4j.createFromArray(LABELS).reshape(6, 1)), "[n, 1] labels");
    }

    @Test
    void viewsAreReadAsViews() {
        // labels as column 1 of a [6, 2] matrix (offset 1, stride 2), probabilities as rows 1..6 of a [7, 3] one
        INDArray table = Nd4j.createFromArray(new long[][]{{9, 0}, {9, 1}, {9, 0}, {9, -1}, {9, 1}, {9, -1}});
        INDArray padded = Nd4j.vstack(Nd4j.createFromArray(new float[][]{{0, 0, 1}}), Nd4j.createFromArray(PROBS));
        INDArray labels = table.get(NDArrayIndex.all(), NDArrayIndex.point(1));
        INDArray probs = padded.get(NDArrayIndex.interval(1, 7), NDArrayIndex.all());
        assertTrue(labels.isView() && probs.isView());
        assertEquals(HeadMetrics.classes(Nd4j.createFromArray(PROBS), Nd4j.createFromArray(LABELS)), HeadMetrics.classes(probs, labels));
    }

    @Test
    void allMissingOrNoRowsGiveNaN() {
        Map<String, Double> m = HeadMetrics.classes(Nd4j.createFromArray(PROBS), Nd4j.createFromArray(-1L, -1L, -1L, -1L, -1L, -1L));
        assertTrue(m.get("accuracy").isNaN(), m.toString());
        assertTrue(m.get("macro_f1").isNaN(), m.toString());
        Map<String, Double> none = HeadMetrics.classes(Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 0, 3),
                Nd4j.create(org.nd4j.linalg.api.buffer.DataType.LONG, 0));
        assertTrue(none.get("accuracy").isNaN() && none.get("macro_f1").isNaN(), none.toString());
    }

    @Test
    void badClassLabelsNameHeadAndRow() {
        INDArray probs = Nd4j.createFromArray(PROBS);
        GraftException e = assertThrows(GraftException.class,
                () -> HeadMetrics.classes("digit", probs, Nd4j.createFromArray(0L, 1L, 3L, 0L, 0L, 0L)));
        assertTrue(e.getMessage().contains("digit") && e.getMessage().contains("row 2") && e.getMessage().contains("0..2"), e.getMessage());
        e = assertThrows(GraftException.class, () -> HeadMetrics.classes("digit", probs, Nd4j.createFromArray(0f, 1.5f, 0f, 0f, 0f, 0f)));
        assertTrue(e.getMessage().contains("digit") && e.getMessage().contains("row 1"), e.getMessage());
        e = assertThrows(GraftException.class, () -> HeadMetrics.classes("digit", probs, Nd4j.createFromArray(0L, 1L)));
        assertTrue(e.getMessage().contains("digit") && e.getMessage().contains("[2]") && e.getMessage().contains("[6]"), e.getMessage());
        e = assertThrows(GraftException.class, () -> HeadMetrics.classes("digit", Nd4j.createFromArray(1f, 2f), Nd4j.createFromArray(0L)));
        assertTrue(e.getMessage().contains("digit") && e.getMessage().contains("[n, k]"), e.getMessage());
    }

    @Test
    void multiLabelPerLabelAndMeans() {
        var probs = Nd4j.createFromArray(new float[][]{{.9f, .2f, .1f}, {.4f, .8f, .3f}, {.6f, .1f, .2f}});
        var labels = Nd4j.createFromArray(new float[][]{{1, 0, 0}, {Float.NaN, 1, 0}, {0, Float.NaN, Float.NaN}});
        Map<String, Double> m = HeadMetrics.multiLabel(probs, labels);
        // label 0: rows 0 and 2 present; predicted 1, 1; truth 1, 0 -> accuracy 1/2; tp 1, fp 1 -> F1 2/3
        assertEquals(0.5, m.get("label0_accuracy"), EXACT);
        assertEquals(2.0 / 3, m.get("label0_f1"), EXACT);
        // label 1: rows 0 and 1; predicted 0, 1; truth 0, 1 -> accuracy 1; tp 1 -> F1 1
        assertEquals(1.0, m.get("label1_accuracy"), EXACT);
        assertEquals(1.0, m.get("label1_f1"), EXACT);
        // label 2: rows 0 and 1; predicted 0, 0; truth 0, 0 -> accuracy 1; never true nor predicted -> F1 NaN
        assertEquals(1.0, m.get("label2_accuracy"), EXACT);
        assertTrue(m.get("label2_f1").isNaN());
        // means: accuracy (1/2 + 1 + 1) / 3 = 5/6; F1 over the labels that have one: (2/3 + 1) / 2 = 5/6
        assertEquals(5.0 / 6, m.get("accuracy"), EXACT);
        assertEquals(5.0 / 6, m.get("f1"), EXACT);
    }

    @Test
    void multiLabelThresholdAndAllMissing() {
        // 0.5 is predicted: truth 1 -> right, tp 1; 0.4999 is not: truth 1 -> wrong, fn 1
        Map<String, Double> m = HeadMetrics.multiLabel(Nd4j.createFromArray(new double[][]{{0.5}, {0.4999}}), Nd4j.createFromArray(new double[][]{{1}, {1}}));
        assertEquals(0.5, m.get("accuracy"), EXACT);
        assertEquals(2.0 / 3, m.get("f1"), EXACT); // 2*1 / (2*1 + 0 + 1)
        // a label column with no entry present is NaN and stays out of the means
        m = HeadMetrics.multiLabel(Nd4j.createFromArray(new float[][]{{.9f, .9f}, {.1f, .9f}}), Nd4j.createFromArray(new float[][]{{1, Float.NaN}, {0, Float.NaN}}));
        assertTrue(m.get("label1_accuracy").isNaN() && m.get("label1_f1").isNaN(), m.toString());
        assertEquals(1.0, m.get("accuracy"), EXACT);
        assertEquals(1.0, m.get("f1"), EXACT);
        // the whole head missing
        m = HeadMetrics.multiLabel(Nd4j.createFromArray(new float[][]{{.9f, .1f}}), Nd4j.createFromArray(new float[][]{{Float.NaN, Float.NaN}}));
        for (double v : m.values()) assertTrue(Double.isNaN(v), m.toString());
        assertEquals(6, m.size());
    }

    @Test
    void badMultiLabelsNameHeadRowAndColumn() {
        var probs = Nd4j.createFromArray(new float[][]{{.9f, .2f}, {.4f, .8f}});
        GraftException e = assertThrows(GraftException.class,
                () -> HeadMetrics.multiLabel("tags", probs, Nd4j.createFromArray(new float[][]{{1, 0}, {0, 2}})));
        assertTrue(e.getMessage().contains("tags") && e.getMessage().contains("row 1") && e.getMessage().contains("column 1"), e.getMessage());
        e = assertThrows(GraftException.class, () -> HeadMetrics.multiLabel("tags", probs, Nd4j.createFromArray(new float[][]{{1, 0, 1}, {0, 1, 1}})));
        assertTrue(e.getMessage().contains("tags") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[2, 2]"), e.getMessage());
    }

    @Test
    void maeOverPresentTargets() {
        // present: |1 - 0.5| = 0.5, |3 - 2| = 1, |0 - (-1)| = 1 -> 2.5 / 3; row 1 entirely missing
        var mae = HeadMetrics.values(Nd4j.createFromArray(new float[][]{{1, 2}, {9, 4}, {3, 0}}),
                Nd4j.createFromArray(new float[][]{{0.5f, Float.NaN}, {Float.NaN, Float.NaN}, {2, -1}}));
        assertEquals(2.5 / 3, mae.get("mae"), EXACT);
        assertTrue(HeadMetrics.values(Nd4j.createFromArray(new float[][]{{1}}), Nd4j.createFromArray(new float[][]{{Float.NaN}})).get("mae").isNaN());
        GraftException e = assertThrows(GraftException.class,
                () -> HeadMetrics.values("age", Nd4j.createFromArray(new float[][]{{1}, {2}}), Nd4j.createFromArray(new float[][]{{1}})));
        assertTrue(e.getMessage().contains("age") && e.getMessage().contains("targets"), e.getMessage());
    }
}
