package dev.graft.verify;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How closely two arrays agree: max absolute and relative error, and whether every element is within
 * {@code atol + rtol * |reference|}. NaN must match NaN; shapes must be equal.
 */
public record Agreement(double maxAbs, double maxRel, boolean within, String problem) {

    public static Agreement of(INDArray actual, INDArray reference, double atol, double rtol) {
        if (actual == null || reference == null) {
            return new Agreement(Double.NaN, Double.NaN, false, actual == null ? "no value computed" : "no reference");
        }
        if (!Arrays.equals(actual.shape(), reference.shape())) {
            return new Agreement(Double.NaN, Double.NaN, false, "shape " + Arrays.toString(actual.shape())
                    + " vs " + Arrays.toString(reference.shape()));
        }
        double[] a = actual.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] r = reference.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double maxAbs = 0;
        double maxRel = 0;
        boolean ok = true;
        for (int i = 0; i < a.length; i++) {
            if (Double.isNaN(a[i]) || Double.isNaN(r[i])) {
                ok &= Double.isNaN(a[i]) && Double.isNaN(r[i]);
                continue;
            }
            double d = a[i] == r[i] ? 0 : Math.abs(a[i] - r[i]);
            maxAbs = Math.max(maxAbs, d);
            if (r[i] != 0) maxRel = Math.max(maxRel, d / Math.abs(r[i]));
            ok &= d <= atol + rtol * Math.abs(r[i]);
        }
        return new Agreement(maxAbs, maxRel, ok, null);
    }
}
