package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.GraftException;
import dev.graft.GraftModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Resize family against the ONNX backend suite, plus op versions and attributes the suite lacks. */
class ResizeOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("Resize", "Upsample");
    }

    @TempDir
    Path tmp;

    private static INDArray row(double... v) {
        return Nd4j.createFromArray(v).castTo(DataType.FLOAT).reshape(1, 1, 1, v.length);
    }

    private static INDArray floats(double... v) {
        return Nd4j.createFromArray(v).castTo(DataType.FLOAT);
    }

    private static void assertValues(double[] expected, INDArray actual) {
        assertArrayEquals(expected, actual.castTo(DataType.DOUBLE).data().asDouble(), 1e-5, actual.toString());
    }

    /** Upsample-7 takes its scales as an attribute; integer nearest scales repeat elements. */
    @Test
    void upsample7NearestAttribute() {
        INDArray x = Nd4j.createFromArray(new float[][]{{1, 2}, {3, 4}}).reshape(1, 1, 2, 2);
        INDArray y = new SingleNodeModel("Upsample", 7).input("x", x).attr("mode", "nearest")
                .attrFloats("scales", 1, 1, 2, 3).output("y").run(tmp).get("y");
        assertArrayEquals(new long[]{1, 1, 4, 6}, y.shape());
        assertValues(new double[]{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}, y);
    }

    /** Resize-10 (and Upsample) map coordinates asymmetrically: source = output / scale, edge-clamped. */
    @Test
    void resize10LinearAsymmetric() {
        INDArray y = new SingleNodeModel("Resize", 10).input("x", row(0, 1, 2)).initializer("scales", floats(1, 1, 1, 2))
                .attr("mode", "linear").output("y").run(tmp).get("y");
        assertValues(new double[]{0, 0.5, 1, 1.5, 2, 2}, y);
    }

    /** Opset 18 axes: sizes are given for the listed axes only. */
    @Test
    void resize18Axes() {
        INDArray sizes = Nd4j.createFromArray(4L);
        INDArray y = new SingleNodeModel("Resize", 18).input("x", row(5, 7)).skipInput().skipInput()
                .initializer("sizes", sizes).attr("axes", new long[]{3}).attr("mode", "nearest")
                .attr("coordinate_transformation_mode", "asymmetric").attr("nearest_mode", "floor").output("y").run(tmp).get("y");
        assertValues(new double[]{5, 5, 7, 7}, y);
    }

    /**
     * Antialiased linear downsampling by 2 stretches the triangle filter to 4 taps with weights
     * 1/8, 3/8, 3/8, 1/8 around each half-pixel source position (edges clamped).
     */
    @Test
    void resize18AntialiasLinear() {
        INDArray y = new SingleNodeModel("Resize", 18).input("x", row(0, 1, 2, 3, 4, 5, 6, 7)).skipInput()
                .initializer("scales", floats(1, 1, 1, 0.5)).attr("mode", "linear").attr("antialias", 1L)
                .output("y").run(tmp).get("y");
        assertValues(new double[]{0.625, 2.5, 4.5, 6.375}, y);
    }

    /** half_pixel_symmetric exists from opset 19 only; earlier versions refuse it by name. */
    @Test
    void halfPixelSymmetricNeedsOpset19() {
        SingleNodeModel m = new SingleNodeModel("Resize", 18).input("x", row(0, 1, 2)).skipInput()
                .initializer("scales", floats(1, 1, 1, 2)).attr("coordinate_transformation_mode", "half_pixel_symmetric")
                .output("y");
        GraftException e = org.junit.jupiter.api.Assertions.assertThrows(GraftException.class, () -> m.run(tmp));
        assertTrue(e.getMessage().contains("half_pixel_symmetric"), e.getMessage());
    }

    /** Gradients flow through the resampling to what feeds it (here a weight resized as is). */
    @Test
    void gradientsFlowThroughResize() {
        INDArray w = Nd4j.rand(DataType.FLOAT, 1, 2, 3, 3);
        for (String mode : List.of("nearest", "linear", "cubic")) {
            GraftModel g = new SingleNodeModel("Resize", 13).initializer("w", w).skipInput()
                    .initializer("scales", floats(1, 1, 1.5, 2)).attr("mode", mode).output("y").importModel(tmp);
            SameDiff sd = g.sameDiff();
            sd.setLossVariables(sd.math().square(sd.getVariable("y")).sum());
            INDArray grad = sd.calculateGradients(Map.of(), "w").get("w");
            assertArrayEquals(w.shape(), grad.shape());
            assertTrue(grad.norm2Number().doubleValue() > 0, mode);
        }
        // Nearest upsampling by 2 x 3 copies every element 6 times: d sum(y) / dw is 6 everywhere.
        GraftModel g = new SingleNodeModel("Resize", 13).initializer("w", w).skipInput()
                .initializer("scales", floats(1, 1, 2, 3)).attr("mode", "nearest").output("y").importModel(tmp);
        SameDiff sd = g.sameDiff();
        sd.setLossVariables(sd.getVariable("y").sum());
        INDArray grad = sd.calculateGradients(Map.of(), "w").get("w");
        assertTrue(Nd4j.valueArrayOf(w.shape(), 6.0f).equalsWithEps(grad, 1e-5), grad.toString());
    }

    /** Numeric gradient check (double precision) through each resampling mode. */
    @Test
    void gradientsMatchFiniteDifferences() {
        DataType before = Nd4j.dataType();
        DataType beforeFloat = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE); // GradCheckUtil requires it
        try {
            INDArray w = Nd4j.rand(DataType.DOUBLE, 1, 2, 3, 4);
            for (String mode : List.of("nearest", "linear", "cubic")) {
                SameDiff sd = new SingleNodeModel("Resize", 13).initializer("w", w).skipInput()
                        .initializer("scales", floats(1, 1, 1.7, 0.6)).attr("mode", mode).output("y", DataType.DOUBLE)
                        .importModel(tmp).sameDiff();
                org.nd4j.autodiff.samediff.SDVariable y = sd.getVariable("y");
                sd.setLossVariables(y.mul(sd.constant(Nd4j.rand(DataType.DOUBLE, y.eval().shape()))).sum());
                // scales is read at import time and frozen: the only trainable variable is w.
                assertEquals(org.nd4j.autodiff.samediff.VariableType.CONSTANT, sd.getVariable("scales").getVariableType());
                assertTrue(org.nd4j.autodiff.validation.GradCheckUtil.checkGradients(sd, Map.of()), mode);
            }
        } finally {
            Nd4j.setDefaultDataTypes(before, beforeFloat);
        }
    }
}
