package dev.graft.train.report;

import dev.graft.GraftException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Metrics per head, computed over the labels that are present. A missing label (-1 or NaN for class
 * indices, NaN for multi-label and value targets) is left out entry by entry: it counts neither as right
 * nor as wrong, and a class that only the left-out rows would predict is not counted either. A metric with
 * nothing to measure (no label present) is NaN, never 0 and never an exception; {@link MetricsLog} writes
 * it as JSON null.
 *
 * <p>Metric names (the {@code <metric>} in {@code <head>_<metric>}, see {@link MetricsLog}):
 * <ul>
 *   <li>softmax: {@code accuracy}, {@code macro_f1};</li>
 *   <li>sigmoid: {@code accuracy}, {@code f1} (means over the labels), {@code label<i>_accuracy},
 *       {@code label<i>_f1} per label;</li>
 *   <li>linear: {@code mae}.</li>
 * </ul>
 *
 * <p>Inputs may be views (slices); they are copied before reading. Shapes that do not fit and labels that
 * cannot be labels (a class index outside {@code 0..k-1}, a multi-label value outside [0, 1]) are
 * {@link GraftException}s naming the head, the row and the column.
 */
public final class HeadMetrics {

    /** A sigmoid output at or above this is a predicted label; a 0/1 truth at or above it is a true label. */
    public static final double THRESHOLD = 0.5;

    private HeadMetrics() {
    }

    /** {@link #classes(String, INDArray, INDArray)} for an unnamed head. */
    public static Map<String, Double> classes(INDArray probs, INDArray labels) {
        return classes("softmax head", probs, labels);
    }

    /**
     * Softmax head {@code head}: probs [n, k], labels [n] (or [n, 1]) class indices, integer or floating
     * type; -1 (or NaN in floating labels) is missing. The predicted class is the arg-max (the first on
     * ties). Keys: "accuracy" (right / labelled rows) and "macro_f1": the mean F1 over the classes that
     * occur among the labelled rows' labels or predictions; a class with neither a true nor a predicted
     * example among them is left out of the mean (its F1 would be 0/0).
     */
    public static Map<String, Double> classes(String head, INDArray probs, INDArray labels) {
        requireRank2(head, "probabilities", probs);
        int n = (int) probs.size(0);
        int k = (int) probs.size(1);
        double[] y = flatRows(head, "labels", labels, n, 1);
        long[] pred = n == 0 ? new long[0] : probs.argMax(1).castTo(DataType.LONG).dup('c').data().asLong();
        long[] tp = new long[k];
        long[] fp = new long[k];
        long[] fn = new long[k];
        int present = 0;
        int correct = 0;
        for (int i = 0; i < n; i++) {
            double t = y[i];
            if (Double.isNaN(t) || t == -1) continue;
            if (t != Math.rint(t) || t < 0 || t >= k) {
                throw new GraftException(head + ": label " + t + " at row " + i + " is not a class index in 0.." + (k - 1)
                        + " (or -1 for missing)");
            }
            present++;
            int c = (int) t;
            int p = (int) pred[i];
            if (c == p) {
                correct++;
                tp[c]++;
            } else {
                fp[p]++;
                fn[c]++;
            }
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("accuracy", present == 0 ? Double.NaN : correct / (double) present);
        m.put("macro_f1", meanF1(tp, fp, fn));
        return m;
    }

    /** {@link #multiLabel(String, INDArray, INDArray)} for an unnamed head. */
    public static Map<String, Double> multiLabel(INDArray probs, INDArray labels) {
        return multiLabel("sigmoid head", probs, labels);
    }

    /**
     * Sigmoid multi-label head {@code head}: probs [n, k] (a label is predicted when its probability is at
     * least {@link #THRESHOLD}), labels [n, k] 0/1, NaN missing (that one entry is left out). Per label i:
     * "label&lt;i&gt;_accuracy" over its present entries (NaN when none) and "label&lt;i&gt;_f1" (NaN when
     * it is neither true nor predicted in any present entry). "accuracy" and "f1" are the means of the
     * per-label values that are not NaN (NaN when all are).
     */
    public static Map<String, Double> multiLabel(String head, INDArray probs, INDArray labels) {
        requireRank2(head, "probabilities", probs);
        int n = (int) probs.size(0);
        int k = (int) probs.size(1);
        double[] p = flat(probs);
        double[] y = flatRows(head, "labels", labels, n, k);
        Map<String, Double> perLabel = new LinkedHashMap<>();
        double accSum = 0;
        int accN = 0;
        double f1Sum = 0;
        int f1N = 0;
        for (int j = 0; j < k; j++) {
            int present = 0;
            int correct = 0;
            long[] tp = new long[1];
            long[] fp = new long[1];
            long[] fn = new long[1];
            for (int i = 0; i < n; i++) {
                double t = y[i * k + j];
                if (Double.isNaN(t)) continue;
                if (t < 0 || t > 1) {
                    throw new GraftException(head + ": label value " + t + " at row " + i + ", column " + j
                            + " is not 0 or 1 (NaN for missing)");
                }
                present++;
                boolean truth = t >= THRESHOLD;
                boolean predicted = p[i * k + j] >= THRESHOLD;
                if (truth == predicted) correct++;
                if (truth && predicted) tp[0]++;
                if (!truth && predicted) fp[0]++;
                if (truth && !predicted) fn[0]++;
            }
            double acc = present == 0 ? Double.NaN : correct / (double) present;
            double f1 = meanF1(tp, fp, fn);
            perLabel.put("label" + j + "_accuracy", acc);
            perLabel.put("label" + j + "_f1", f1);
            if (!Double.isNaN(acc)) {
                accSum += acc;
                accN++;
            }
            if (!Double.isNaN(f1)) {
                f1Sum += f1;
                f1N++;
            }
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("accuracy", accN == 0 ? Double.NaN : accSum / accN);
        m.put("f1", f1N == 0 ? Double.NaN : f1Sum / f1N);
        m.putAll(perLabel);
        return m;
    }

    /** {@link #values(String, INDArray, INDArray)} for an unnamed head. */
    public static Map<String, Double> values(INDArray predictions, INDArray targets) {
        return values("linear head", predictions, targets);
    }

    /**
     * Linear head {@code head}: predictions [n, k], targets [n, k], NaN missing. Key: "mae", the mean
     * absolute error over the present target entries (NaN when none).
     */
    public static Map<String, Double> values(String head, INDArray predictions, INDArray targets) {
        requireRank2(head, "predictions", predictions);
        int n = (int) predictions.size(0);
        int k = (int) predictions.size(1);
        double[] p = flat(predictions);
        double[] y = flatRows(head, "targets", targets, n, k);
        double sum = 0;
        int count = 0;
        for (int i = 0; i < y.length; i++) {
            if (Double.isNaN(y[i])) continue;
            sum += Math.abs(p[i] - y[i]);
            count++;
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("mae", count == 0 ? Double.NaN : sum / count);
        return m;
    }

    /** Mean over classes of 2tp / (2tp + fp + fn), leaving out classes where that is 0/0; NaN if all are. */
    private static double meanF1(long[] tp, long[] fp, long[] fn) {
        double sum = 0;
        int classes = 0;
        for (int c = 0; c < tp.length; c++) {
            long denominator = 2 * tp[c] + fp[c] + fn[c];
            if (denominator == 0) continue;
            sum += 2.0 * tp[c] / denominator;
            classes++;
        }
        return classes == 0 ? Double.NaN : sum / classes;
    }

    private static void requireRank2(String head, String what, INDArray a) {
        if (a == null || a.rank() != 2) {
            throw new GraftException(head + ": " + what + " must be [n, k], got "
                    + (a == null ? "null" : Arrays.toString(a.shape())));
        }
    }

    /** The values in row-major order, checked to hold {@code rows} rows of {@code cols} entries. */
    private static double[] flatRows(String head, String what, INDArray a, int rows, int cols) {
        if (a == null) throw new GraftException(head + ": no " + what);
        long[] s = a.shape();
        boolean fits = cols == 1
                ? (a.rank() == 1 && s[0] == rows) || (a.rank() == 2 && s[0] == rows && s[1] == 1)
                : a.rank() == 2 && s[0] == rows && s[1] == cols;
        if (!fits) {
            throw new GraftException(head + ": " + what + " have shape " + Arrays.toString(s) + ", expected "
                    + (cols == 1 ? "[" + rows + "]" : "[" + rows + ", " + cols + "]") + " to match the outputs");
        }
        return rows == 0 ? new double[0] : flat(a);
    }

    private static double[] flat(INDArray a) {
        if (a.length() == 0) return new double[0];
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }
}
