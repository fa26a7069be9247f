package dev.graft.train.report;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Metrics per head, over the labels that are present (missing ones, -1 or NaN, are left out entry by
 * entry). A head without any present label gets NaN, not 0: there is nothing to measure.
 */
public final class HeadMetrics {

    private HeadMetrics() {
    }

    /**
     * Softmax head: probs [n, k], labels [n] class indices, -1 missing. "accuracy"; "macro_f1": the mean F1
     * over the classes that occur among the labels or the predictions.
     */
    public static Map<String, Double> classes(INDArray probs, INDArray labels) {
        int n = (int) probs.size(0);
        int k = (int) probs.size(1);
        long[] y = labels.castTo(DataType.LONG).data().asLong();
        long[] pred = probs.argMax(1).castTo(DataType.LONG).data().asLong();
        long[] tp = new long[k];
        long[] fp = new long[k];
        long[] fn = new long[k];
        int present = 0;
        int correct = 0;
        for (int i = 0; i < n; i++) {
            if (y[i] < 0) continue;
            present++;
            int t = (int) y[i];
            int p = (int) pred[i];
            if (t == p) {
                correct++;
                tp[t]++;
            } else {
                fp[p]++;
                if (t < k) fn[t]++;
            }
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("accuracy", present == 0 ? Double.NaN : correct / (double) present);
        double f1Sum = 0;
        int classes = 0;
        for (int c = 0; c < k; c++) {
            if (tp[c] + fp[c] + fn[c] == 0) continue;
            f1Sum += 2.0 * tp[c] / (2.0 * tp[c] + fp[c] + fn[c]);
            classes++;
        }
        m.put("macro_f1", classes == 0 ? Double.NaN : f1Sum / classes);
        return m;
    }

    /**
     * Sigmoid head: probs [n, k] (a label is predicted when its probability is at least 0.5), labels [n, k]
     * 0/1, NaN missing. "accuracy" and "f1" are means over the labels that have any present entry; per
     * label: "label&lt;i&gt;_accuracy", "label&lt;i&gt;_f1" (F1 NaN when the label is never true nor predicted).
     */
    public static Map<String, Double> multiLabel(INDArray probs, INDArray labels) {
        int n = (int) probs.size(0);
        int k = (int) probs.size(1);
        double[] p = probs.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] y = labels.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        Map<String, Double> perLabel = new LinkedHashMap<>();
        double accSum = 0;
        int accN = 0;
        double f1Sum = 0;
        int f1N = 0;
        for (int j = 0; j < k; j++) {
            int present = 0;
            int correct = 0;
            int tp = 0;
            int fp = 0;
            int fn = 0;
            for (int i = 0; i < n; i++) {
                double t = y[i * k + j];
                if (Double.isNaN(t)) continue;
                present++;
                boolean truth = t >= 0.5;
                boolean predicted = p[i * k + j] >= 0.5;
                if (truth == predicted) correct++;
                if (truth && predicted) tp++;
                if (!truth && predicted) fp++;
                if (truth && !predicted) fn++;
            }
            double acc = present == 0 ? Double.NaN : correct / (double) present;
            double f1 = tp + fp + fn == 0 ? Double.NaN : 2.0 * tp / (2.0 * tp + fp + fn);
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

    /** Linear head: predictions [n, k], targets [n, k] NaN missing. "mae" over present targets. */
    public static Map<String, Double> values(INDArray predictions, INDArray targets) {
        double[] p = predictions.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] y = targets.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double sum = 0;
        int n = 0;
        for (int i = 0; i < y.length; i++) {
            if (Double.isNaN(y[i])) continue;
            sum += Math.abs(p[i] - y[i]);
            n++;
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("mae", n == 0 ? Double.NaN : sum / n);
        return m;
    }
}
