package dev.graft.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.graft.verify.Agreement;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/** Each shortcut against ND4J's own kernel for the op, on the same inputs. */
class KernelShortcutsTest {

    /** Fresh arrays for every output and scratch; which outputs are read and which inputs are weights, as given. */
    private record Fresh(java.util.function.IntPredicate read, boolean weights) implements KernelShortcuts.Outputs {
        @Override
        public INDArray get(int index, DataType type, long[] shape) {
            assertEquals(true, read.test(index), "allocated unread output " + index);
            return Nd4j.createUninitialized(type, shape);
        }

        @Override
        public boolean needed(int index) {
            return read.test(index);
        }

        @Override
        public boolean stored(int index) {
            return weights;
        }

        @Override
        public INDArray scratch(int index, DataType type, long[] shape) {
            assertEquals(true, read.test(index), "scratch for unread output " + index);
            return Nd4j.createUninitialized(type, shape);
        }
    }

    private static final KernelShortcuts.Outputs FRESH = new Fresh(i -> true, true);

    private static INDArray[] nd4j(String op, INDArray[] in, long[]... outShapes) {
        INDArray[] out = Arrays.stream(outShapes).map(s -> Nd4j.create(DataType.FLOAT, s)).toArray(INDArray[]::new);
        Nd4j.exec(DynamicCustomOp.builder(op).addInputs(in).addOutputs(out).build());
        return out;
    }

    private static INDArray[] shortcut(String op, INDArray[] in, long[]... outShapes) {
        CustomOp custom = DynamicCustomOp.builder(op).addInputs(in).build();
        DataType[] types = new DataType[outShapes.length];
        Arrays.fill(types, DataType.FLOAT);
        return KernelShortcuts.forOp(op).run(custom, in, outShapes, types, FRESH);
    }

    private static void assertSameBits(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        assertArrayEquals(expected.dup().data().asFloat(), actual.dup().data().asFloat(), what);
    }

    /** Equal values: as bits, except that 0.0 and -0.0 are the same value (a masked negative gradient is -0.0). */
    private static void assertSameValues(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        float[] e = expected.dup().data().asFloat();
        float[] a = actual.dup().data().asFloat();
        for (int i = 0; i < e.length; i++) {
            boolean same = e[i] == a[i] || (Float.isNaN(e[i]) && Float.isNaN(a[i]));
            assertEquals(true, same, what + " at " + i + ": ND4J " + e[i] + ", shortcut " + a[i]);
        }
    }

    @Test
    void relu6GradientIsND4JsAtTheKinksAndBeyond() {
        float tiny = Float.MIN_VALUE;
        float[] special = {-7, -1, -tiny, 0, tiny, 1e-20f, 1, 3, 5.9999995f, 6, 6.0000005f, 7, 1e30f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        INDArray x = Nd4j.createFromArray(special).reshape(4, 4);
        INDArray eps = Nd4j.rand(DataType.FLOAT, 4, 4).addi(0.5);
        assertSameValues(nd4j("relu6_bp", new INDArray[]{x, eps}, x.shape())[0],
                shortcut("relu6_bp", new INDArray[]{x, eps}, x.shape())[0], "relu6_bp on " + Arrays.toString(special));
        INDArray big = Nd4j.randn(DataType.FLOAT, 8, 12, 5, 5).muli(5);
        INDArray g = Nd4j.randn(DataType.FLOAT, 8, 12, 5, 5);
        assertSameValues(nd4j("relu6_bp", new INDArray[]{big, g}, big.shape())[0],
                shortcut("relu6_bp", new INDArray[]{big, g}, big.shape())[0], "relu6_bp on random values");
    }

    @Test
    void broadcastMultiplyGradientEqualsND4Js() {
        long[][][] cases = {
                {{8, 12, 5, 5}, {12, 1, 1}},  // BatchNormalization's per-channel scale
                {{12, 1, 1}, {8, 12, 5, 5}},  // the same, operands swapped
                {{8, 12}, {12}},              // a bias-like vector
                {{1, 12}, {12}},              // batch 1: same count, one rank less
                {{8, 12, 5, 5}, {8, 12, 5, 5}}, // same shapes
                {{8, 1, 5, 5}, {1, 12, 1, 1}}, // both broadcast
        };
        for (long[][] c : cases) {
            INDArray x = Nd4j.randn(DataType.FLOAT, c[0]);
            INDArray y = Nd4j.randn(DataType.FLOAT, c[1]);
            INDArray eps = Nd4j.randn(DataType.FLOAT, x.mul(y).shape());
            INDArray[] in = {x, y, eps};
            INDArray[] expected = nd4j("multiply_bp", in, c[0], c[1]);
            INDArray[] actual = shortcut("multiply_bp", in, c[0], c[1]);
            assertNotNull(actual, Arrays.deepToString(c));
            for (int k = 0; k < 2; k++) {
                // The per-channel sums may add in another order: float32 rounding of sums of up to 200 terms.
                Agreement a = Agreement.of(actual[k], expected[k], 1e-5 * expected[k].amaxNumber().doubleValue(), 1e-5);
                assertEquals(true, a.within(), Arrays.deepToString(c) + " operand " + k + ": " + a.problem());
            }
        }
    }

    @Test
    void addGradientPassesTheIncomingGradientOnAndSumsTheBroadcastOne() {
        INDArray x = Nd4j.randn(DataType.FLOAT, 8, 12, 5, 5);
        INDArray b = Nd4j.randn(DataType.FLOAT, 12, 1, 1);
        INDArray eps = Nd4j.randn(DataType.FLOAT, 8, 12, 5, 5);
        INDArray[] in = {x, b, eps};
        INDArray[] expected = nd4j("add_bp", in, x.shape(), b.shape());
        INDArray[] actual = shortcut("add_bp", in, x.shape(), b.shape());
        assertSame(eps, actual[0], "the same-shaped operand's gradient is the incoming gradient itself");
        assertSameBits(expected[0], actual[0], "d x");
        Agreement a = Agreement.of(actual[1], expected[1], 1e-5 * expected[1].amaxNumber().doubleValue(), 1e-5);
        assertEquals(true, a.within(), a.problem());
    }

    @Test
    void anUnreadGradientIsNotComputed() {
        INDArray x = Nd4j.randn(DataType.FLOAT, 8, 12, 5, 5);
        INDArray scale = Nd4j.randn(DataType.FLOAT, 12, 1, 1);
        INDArray eps = Nd4j.randn(DataType.FLOAT, 8, 12, 5, 5);
        KernelShortcuts.Outputs onlyFirst = new Fresh(i -> i == 0, false);
        for (String op : new String[]{"multiply_bp", "add_bp"}) {
            INDArray[] in = {x, scale, eps};
            INDArray[] expected = nd4j(op, in, x.shape(), scale.shape());
            INDArray[] got = KernelShortcuts.forOp(op).run(DynamicCustomOp.builder(op).addInputs(in).build(), in,
                    new long[][]{x.shape(), scale.shape()}, new DataType[]{DataType.FLOAT, DataType.FLOAT}, onlyFirst);
            assertNull(got[1], op);
            assertSameBits(expected[0], got[0], op + " d x");
        }
    }

    @Test
    void permuteIsAViewOnlyOfAWeight() {
        INDArray w = Nd4j.rand(DataType.FLOAT, 6, 4, 3, 3);
        INDArray[] in = {w};
        CustomOp op = DynamicCustomOp.builder("permute").addInputs(in).addIntegerArguments(2, 3, 1, 0).build();
        long[][] shape = {{3, 3, 4, 6}};
        DataType[] types = {DataType.FLOAT};
        INDArray[] viewed = KernelShortcuts.forOp("permute").run(op, in, shape, types, FRESH);
        assertSameBits(w.permute(2, 3, 1, 0).dup(), viewed[0].dup(), "permuted weight");
        KernelShortcuts.Outputs computed = new Fresh(i -> true, false);
        // An activation stays a copy: ND4J M2.1's NHWC conv2d misreads strided inputs.
        assertNull(KernelShortcuts.forOp("permute").run(op, in, shape, types, computed));
    }

    @Test
    void reshapeIsAViewOnlyOfADenseArray() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 6);
        INDArray[] r = shortcut("reshape", new INDArray[]{x, Nd4j.createFromArray(3L, 8L)}, new long[]{3, 8});
        assertArrayEquals(new long[]{3, 8}, r[0].shape());
        assertSameBits(x.reshape('c', 3, 8), r[0], "reshape");
        // A transposed view would need a copy: ND4J's kernel keeps it.
        assertNull(shortcut("reshape", new INDArray[]{x.transpose(), Nd4j.createFromArray(24L)}, new long[]{24}));
        // Not float: left to ND4J.
        assertNull(shortcut("reshape", new INDArray[]{Nd4j.createFromArray(1L, 2L), Nd4j.createFromArray(2L)}, new long[]{2}));
    }
}
