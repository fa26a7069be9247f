package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.GraftModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Comparisons, logical ops and Where against the ONNX backend suite (SameDiff vs reference outputs). */
class ComparisonOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Not", "And", "Or", "Xor", "Where");
    }

    @TempDir
    Path dir;

    /** Where broadcasts, keeps NaN / inf / -0 bit-exact, and passes gradients to the selected branch. */
    @Test
    void whereIsExactAndTrainable() {
        GraftModel m = new SingleNodeModel("Where", 16)
                .input("c", DataType.BOOL, 2, 1)
                .initializer("w", Nd4j.createFromArray(1f, 2f, -0f))
                .input("y", DataType.FLOAT, 2, 3)
                .output("z", DataType.FLOAT, 2, 3)
                .importModel(dir);
        Map<String, INDArray> feeds = Map.of(
                "c", Nd4j.createFromArray(new boolean[][]{{true}, {false}}),
                "y", Nd4j.createFromArray(new float[][]{{Float.NEGATIVE_INFINITY, Float.NaN, 6}, {7, Float.NaN, -0f}}));
        INDArray z = m.run(feeds, List.of()).get("z");
        assertArrayEquals(new long[]{2, 3}, z.shape());
        float[] got = z.dup('c').data().asFloat();
        float[] want = {1, 2, -0f, 7, Float.NaN, -0f};
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), "element " + i);
        }
        SameDiff sd = m.sameDiff();
        SDVariable loss = sd.getVariable("z").mul(sd.constant(Nd4j.createFromArray(new float[][]{{1, 2, 3}, {4, 5, 6}}))).sum();
        loss.markAsLoss();
        INDArray grad = sd.calculateGradients(feeds, "w").get("w");
        assertEquals(Nd4j.createFromArray(1f, 2f, 3f), grad);
    }

    /** Where over a dimension only known at run time broadcasts in the graph. */
    @Test
    void whereBroadcastsDynamicShapes() {
        GraftModel m = new SingleNodeModel("Where", 16)
                .input("c", DataType.BOOL, -1, 1)
                .input("x", DataType.FLOAT, 1, 3)
                .input("y", DataType.FLOAT)
                .output("z", DataType.FLOAT, -1, 3)
                .importModel(dir);
        INDArray z = m.run(Map.of(
                "c", Nd4j.createFromArray(new boolean[][]{{false}, {true}, {false}}),
                "x", Nd4j.createFromArray(new float[][]{{1, 2, 3}}),
                "y", Nd4j.scalar(-1f)), List.of()).get("z");
        assertEquals(Nd4j.createFromArray(new float[][]{{-1, -1, -1}, {1, 2, 3}, {-1, -1, -1}}), z);
    }

    /** SameDiff's And only broadcasts its second operand; a smaller first operand must still broadcast. */
    @Test
    void andBroadcastsSmallerFirstOperand() {
        GraftModel m = new SingleNodeModel("And", 7)
                .input("x", DataType.BOOL, 3)
                .input("y", DataType.BOOL, 2, 3)
                .output("z", DataType.BOOL, 2, 3)
                .importModel(dir);
        INDArray z = m.run(Map.of(
                "x", Nd4j.createFromArray(true, false, true),
                "y", Nd4j.createFromArray(new boolean[][]{{true, true, false}, {false, true, true}})), List.of()).get("z");
        assertEquals(Nd4j.createFromArray(new boolean[][]{{true, false, false}, {false, false, true}}), z);
    }

    /** Opset 1-6 broadcasting: B's dimensions line up with A's from {@code axis}. */
    @Test
    void legacyBroadcastWithAxis() {
        GraftModel m = new SingleNodeModel("Greater", 6)
                .input("a", DataType.FLOAT, 2, 3, 2)
                .input("b", DataType.FLOAT, 3)
                .output("z", DataType.BOOL, 2, 3, 2)
                .attr("broadcast", 1)
                .attr("axis", 1)
                .importModel(dir);
        INDArray a = Nd4j.linspace(0, 11, 12, DataType.FLOAT).reshape(2, 3, 2);
        INDArray b = Nd4j.createFromArray(0f, 3f, 8f);
        INDArray z = m.run(Map.of("a", a, "b", b), List.of()).get("z");
        INDArray want = a.gt(b.reshape(1, 3, 1).broadcast(2, 3, 2));
        assertEquals(want, z);
    }

    /** Equal of bool tensors (allowed since opset 1), broadcast, bool result. */
    @Test
    void equalOfBools() {
        GraftModel m = new SingleNodeModel("Equal", 11)
                .input("x", DataType.BOOL, 2, 2)
                .input("y", DataType.BOOL, 2)
                .output("z", DataType.BOOL, 2, 2)
                .importModel(dir);
        INDArray z = m.run(Map.of(
                "x", Nd4j.createFromArray(new boolean[][]{{true, false}, {false, false}}),
                "y", Nd4j.createFromArray(true, false)), List.of()).get("z");
        assertEquals(Nd4j.createFromArray(new boolean[][]{{true, true}, {false, true}}), z);
    }
}
