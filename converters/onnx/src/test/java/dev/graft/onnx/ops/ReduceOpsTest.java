package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.GraftException;
import dev.graft.GraftModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Reduce family (ReduceXxx, ArgMax, ArgMin) against the ONNX backend suite (SameDiff vs reference outputs). */
class ReduceOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin");
    }

    @TempDir
    Path dir;

    private static final INDArray X = Nd4j.linspace(1, 12, 12, DataType.FLOAT).reshape(3, 2, 2);

    private GraftModel reduceSum(int keepdims, int noop) {
        return new SingleNodeModel("ReduceSum", 13)
                .input("x", DataType.FLOAT, 3, 2, 2)
                .input("axes", DataType.LONG, -1)
                .output("y", DataType.FLOAT)
                .attr("keepdims", keepdims)
                .attr("noop_with_empty_axes", noop)
                .importModel(dir);
    }

    private static INDArray run(GraftModel m, long... axes) {
        return m.run(Map.of("x", X, "axes", Nd4j.createFromArray(axes)), List.of()).get("y");
    }

    /** Axes given at run time: negative axes, empty axes (all, or no-op), with and without keepdims. */
    @Test
    void reduceSumWithRunTimeAxes() {
        GraftModel keep = reduceSum(1, 0);
        assertEquals(X.sum(true, 2), run(keep, -1));
        assertEquals(X.sum(true, 0, 2), run(keep, 2, 0));
        assertEquals(X.sum(true, 0, 1, 2), run(keep));
        GraftModel drop = reduceSum(0, 0);
        assertEquals(X.sum(1), run(drop, -2));
        assertEquals(X.sum(), run(drop));
        GraftModel noop = reduceSum(0, 1);
        assertEquals(X, run(noop));
        assertEquals(X.sum(0), run(noop, 0));
    }

    /** Opset 18 axes input known at import time; noop_with_empty_axes passes the input through. */
    @Test
    void reduceMeanWithConstantAxesInput() {
        GraftModel m = new SingleNodeModel("ReduceMean", 18)
                .input("x", DataType.FLOAT, 3, 2, 2)
                .initializer("axes", Nd4j.createFromArray(-1L, 0L))
                .output("y", DataType.FLOAT)
                .attr("keepdims", 0)
                .importModel(dir);
        assertEquals(X.mean(0, 2), m.run(Map.of("x", X), List.of()).get("y"));
        GraftModel noop = new SingleNodeModel("ReduceMean", 18)
                .input("x", DataType.FLOAT, 3, 2, 2)
                .initializer("axes", Nd4j.createFromArray(new long[0]))
                .output("y", DataType.FLOAT)
                .attr("noop_with_empty_axes", 1)
                .importModel(dir);
        assertEquals(X, noop.run(Map.of("x", X), List.of()).get("y"));
    }

    /** Integer inputs keep their type (SameDiff's mean of integers is floating point). */
    @Test
    void reduceMeanKeepsIntegerType() {
        GraftModel m = new SingleNodeModel("ReduceMean", 13)
                .input("x", DataType.INT, 2, 2)
                .output("y", DataType.INT)
                .ints("axes", 1L)
                .importModel(dir);
        INDArray y = m.run(Map.of("x", Nd4j.createFromArray(new int[][]{{1, 2}, {4, 6}})), List.of()).get("y");
        assertEquals(DataType.INT, y.dataType());
        assertEquals(Nd4j.createFromArray(new int[][]{{1}, {5}}), y);
    }

    /** LogSumExp stays finite for large inputs and gives -inf for an all -inf slice. */
    @Test
    void logSumExpIsStable() {
        GraftModel m = new SingleNodeModel("ReduceLogSumExp", 13)
                .input("x", DataType.FLOAT, 2, 2)
                .output("y", DataType.FLOAT)
                .ints("axes", 1L)
                .attr("keepdims", 0)
                .importModel(dir);
        float ninf = Float.NEGATIVE_INFINITY;
        INDArray y = m.run(Map.of("x", Nd4j.createFromArray(new float[][]{{1000, 1000}, {ninf, ninf}})), List.of()).get("y");
        assertEquals(1000 + Math.log(2), y.getDouble(0), 1e-3);
        assertEquals(ninf, y.getFloat(1));
    }

    /** select_last_index over a dimension only known at run time; int64 output. */
    @Test
    void argMaxSelectLastIndexOnDynamicDimension() {
        GraftModel m = new SingleNodeModel("ArgMax", 13)
                .input("x", DataType.FLOAT, 2, -1)
                .output("y", DataType.LONG)
                .attr("axis", -1)
                .attr("keepdims", 0)
                .attr("select_last_index", 1)
                .importModel(dir);
        INDArray y = m.run(Map.of("x", Nd4j.createFromArray(new float[][]{{3, 1, 3, 0, 2}, {0, 5, 5, 5, 1}})), List.of()).get("y");
        assertEquals(Nd4j.createFromArray(2L, 3L), y);
    }

    /** The axes attribute is not allowed once axes became an input. */
    @Test
    void axesAttributeAtOpset18IsRejected() {
        GraftException e = assertThrows(GraftException.class, () -> new SingleNodeModel("ReduceMax", 18)
                .input("x", DataType.FLOAT, 3, 2, 2)
                .output("y", DataType.FLOAT)
                .ints("axes", 1L)
                .importModel(dir));
        assertTrue(e.getMessage().contains("axes"), e.getMessage());
    }

    /** noop_with_empty_axes still applies the per-element step, as the ONNX reference does. */
    @Test
    void noopAppliesPerElementStep() {
        INDArray x = Nd4j.createFromArray(new float[][]{{-1, 2}, {3, -4}});
        GraftModel sumSquare = new SingleNodeModel("ReduceSumSquare", 18)
                .input("x", DataType.FLOAT, 2, 2)
                .initializer("axes", Nd4j.createFromArray(new long[0]))
                .output("y", DataType.FLOAT)
                .attr("noop_with_empty_axes", 1)
                .importModel(dir);
        assertEquals(x.mul(x), sumSquare.run(Map.of("x", x), List.of()).get("y"));
        GraftModel l1 = new SingleNodeModel("ReduceL1", 18)
                .input("x", DataType.FLOAT, 2, 2)
                .input("axes", DataType.LONG, -1)
                .output("y", DataType.FLOAT)
                .attr("noop_with_empty_axes", 1)
                .importModel(dir);
        assertEquals(Transforms.abs(x), l1.run(Map.of("x", x, "axes", Nd4j.createFromArray(new long[0])), List.of()).get("y"));
        assertEquals(Nd4j.createFromArray(new float[][]{{3}, {7}}),
                l1.run(Map.of("x", x, "axes", Nd4j.createFromArray(1L)), List.of()).get("y"));
    }

    /** LogSumExp over run-time axes: the same stabilisation as for constant axes. */
    @Test
    void logSumExpWithRunTimeAxes() {
        GraftModel m = new SingleNodeModel("ReduceLogSumExp", 18)
                .input("x", DataType.FLOAT, 2, 2)
                .input("axes", DataType.LONG, 1)
                .output("y", DataType.FLOAT)
                .attr("keepdims", 0)
                .importModel(dir);
        float ninf = Float.NEGATIVE_INFINITY;
        INDArray y = m.run(Map.of("x", Nd4j.createFromArray(new float[][]{{1000, 1000}, {ninf, ninf}}),
                "axes", Nd4j.createFromArray(-1L)), List.of()).get("y");
        assertEquals(1000 + Math.log(2), y.getDouble(0), 1e-3);
        assertEquals(ninf, y.getFloat(1));
    }

    /** ReduceMax/Min of bool (opset 20) are any/all, with a bool result. */
    @Test
    void reduceMaxMinOfBool() {
        INDArray x = Nd4j.createFromArray(new boolean[][]{{true, false}, {false, false}});
        for (String op : List.of("ReduceMax", "ReduceMin")) {
            GraftModel m = new SingleNodeModel(op, 20)
                    .input("x", DataType.BOOL, 2, 2)
                    .initializer("axes", Nd4j.createFromArray(1L))
                    .output("y", DataType.BOOL)
                    .attr("keepdims", 0)
                    .importModel(dir);
            INDArray want = op.equals("ReduceMax") ? Nd4j.createFromArray(true, false) : Nd4j.createFromArray(false, false);
            assertEquals(want, m.run(Map.of("x", x), List.of()).get("y"), op);
        }
    }
}
