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
 * Gradients that ND4J's own ops get wrong or lack, checked against closed forms: a Gather or GatherElements
 * into weights with repeated indices (an embedding lookup) must add the gradients of every lookup, and
 * LogSoftmax must differentiate at all. Exact arithmetic up to float rounding: tolerance 1e-5.
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
    void gatherElementsFromWeightsAddsTheGradientOfEveryLookup() {
        for (int axis : new int[]{0, 1}) {
            // data is larger than the indices on the other axis: only its first rows/columns are read
            INDArray data = Nd4j.rand(DataType.FLOAT, 4, 5);
            INDArray idx = axis == 0
                    ? Nd4j.createFromArray(new long[][]{{0, 3, 3}, {3, 0, -1}})
                    : Nd4j.createFromArray(new long[][]{{4, 4, 0}, {1, -1, 2}});
            GraftModel m = new SingleNodeModel("GatherElements", 13).initializer("data", data).input("idx", idx)
                    .attr("axis", (long) axis).output("y").importModel(tmp);
            INDArray r = Nd4j.rand(DataType.FLOAT, 2, 3);
            Map<String, INDArray> feeds = Map.of("idx", idx);
            INDArray y = m.run(feeds, java.util.List.of("y")).get("y");
            INDArray g = gradients(m, r, feeds, "data").get("data");
            INDArray expectedY = Nd4j.zeros(DataType.FLOAT, 2, 3);
            INDArray expectedG = Nd4j.zeros(DataType.FLOAT, 4, 5);
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    long k = idx.getLong(i, j);
                    int src = (int) (k < 0 ? k + (axis == 0 ? 4 : 5) : k);
                    int row = axis == 0 ? src : i;
                    int col = axis == 0 ? j : src;
                    expectedY.putScalar(i, j, data.getFloat(row, col));
                    expectedG.putScalar(row, col, expectedG.getFloat(row, col) + r.getFloat(i, j));
                }
            }
            assertTrue(y.equalsWithEps(expectedY, 1e-6), "axis " + axis + ": " + y + " vs " + expectedY);
            assertTrue(g.equalsWithEps(expectedG, 1e-5), "axis " + axis + ": " + g + " vs " + expectedG);
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
