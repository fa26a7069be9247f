package dev.graft.verify;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How closely two arrays agree: max absolute and relative error, and whether every element is within
 * {@code atol + rtol * |reference|}. NaN must meet NaN and an infinity the same infinity; shapes must be
 * equal. {@code problem} describes the first disagreement, or is null.
 */
public record Agreement(double maxAbs, double maxRel, boolean within, String problem) {

    public static Agreement of(INDArray actual, INDArray reference, double atol, double rtol) {
        if (actual == null || reference == null) {
            return new Agreement(Double.NaN, Double.NaN, false, actual == null ? "no value computed" : "no reference");
        }
        if (!Arrays.equals(actual.shape(), reference.shape())) {
            return new Agreement(Double.NaN, Double.NaN, false, "shape " + Arrays.toString(actual.shape())
                    + ", expected " + Arrays.toString(reference.shape()));
        }
        if (actual.isEmpty()) {
            return new Agreement(0, 0, true, null);
        }
        double[] a = actual.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] r = reference.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double maxAbs = 0;
        double maxRel = 0;
        String first = null;
        for (int i = 0; i < a.length; i++) {
            boolean ok;
            if (Double.isNaN(a[i]) || Double.isNaN(r[i])) {
                ok = Double.isNaN(a[i]) && Double.isNaN(r[i]);
            } else if (Double.isInfinite(a[i]) || Double.isInfinite(r[i])) {
                ok = a[i] == r[i];
            } else {
                double d = Math.abs(a[i] - r[i]);
                maxAbs = Math.max(maxAbs, d);
                if (r[i] != 0) maxRel = Math.max(maxRel, d / Math.abs(r[i]));
                ok = d <= atol + rtol * Math.abs(r[i]);
            }
            if (!ok && first == null) {
                first = "element " + i + " is " + a[i] + ", expected " + r[i];
            }
        }
        String problem = first == null ? null : String.format("max abs error %.3g (atol %s, rtol %s); first at %s",
                maxAbs, atol, rtol, first);
        return new Agreement(maxAbs, maxRel, first == null, problem);
    }
}
