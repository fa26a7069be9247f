package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.GraftModel;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Gradients that ND4J's own ops get wrong, checked against closed forms: a Gather into weights with
 * repeated indices (an embedding lookup) must add the gradients of every lookup, and LogSoftmax must
 * differentiate at all. Exact arithmetic up to float rounding: tolerance 1e-5.
 */
class LookupGradientTest {

    @TempDir
    Path tmp;

    private static Map<String, INDArray> gradients(GraftModel m, INDArray r, Map<String, INDArray> feeds, String wrt) {
        SameDiff sd = m.sameDiff();
        sd.setLossVariables(sd.getVariable("y").mul(sd.constant(r)).sum());
        return sd.calculateGradients(feeds, wrt);
    }

    @Test
    void gatherIntoWeightsAddsTheGradientOfEveryLookup() {
        for (int axis : new int[]{0, 1}) {
            INDArray table = Nd4j.rand(DataType.FLOAT, 4, 3);
            INDArray ids = Nd4j.createFromArray(new long[]{2, 0, 2, 2});
            GraftModel m = new SingleNodeModel("Gather", 13).initializer("table", table).input("ids", ids)
                    .attr("axis", (long) axis).output("y").importModel(tmp);
            long[] outShape = axis == 0 ? new long[]{4, 3} : new long[]{4, 4};
            INDArray r = Nd4j.rand(DataType.FLOAT, outShape);
            INDArray g = gradients(m, r, Map.of("ids", ids), "table").get("table");
            INDArray expected = Nd4j.zeros(DataType.FLOAT, 4, 3);
            for (int k = 0; k < 4; k++) {
                int row = (int) ids.getLong(k);
                if (axis == 0) {
                    expected.getRow(row).addi(r.getRow(k));
                } else {
                    expected.get(NDArrayIndex.all(), NDArrayIndex.point(row))
                            .addi(r.get(NDArrayIndex.all(), NDArrayIndex.point(k)));
                }
            }
            assertTrue(g.equalsWithEps(expected, 1e-5), "axis " + axis + ": " + g + " vs " + expected);
        }
    }

    @Test
    void logSoftmaxGradientIsROfXMinusSoftmaxTimesSumOfR() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 5).muli(4);
        GraftModel m = new SingleNodeModel("LogSoftmax", 13).initializer("x", x).attr("axis", -1L).output("y")
                .importModel(tmp);
        INDArray r = Nd4j.rand(DataType.FLOAT, 2, 5);
        INDArray g = gradients(m, r, Map.of(), "x").get("x");
        INDArray e = org.nd4j.linalg.ops.transforms.Transforms.exp(x, true);
        INDArray softmax = e.diviColumnVector(e.sum(1));
        INDArray expected = r.sub(softmax.mulColumnVector(r.sum(1)));
        assertTrue(g.equalsWithEps(expected, 1e-5), g + " vs " + expected);
    }
}
