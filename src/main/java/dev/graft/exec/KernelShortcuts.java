package dev.graft.exec;

import java.util.Arrays;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarReverseSubtraction;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Faster ways to compute a few ND4J 1.0.0-M2.1 ops whose own kernels are slow, with the same results.
 * Measured on a MobileNetV2 activation [32, 96, 32, 32], 2 cores (see BENCHMARKS.md):
 * <ul>
 *   <li>{@code multiply_bp} with a broadcast operand (BatchNormalization's per-channel scale): 57 ms, against
 *       3.0 ms for a broadcast multiply and a product summed over the broadcast axes (same values, bit for bit
 *       on that tensor);</li>
 *   <li>{@code relu6_bp}: 12.7 ms; ND4J evaluates it through a std::function per element. Here: the gradient
 *       times the step of x * (6 - x), four vectorised passes (a masked negative gradient comes out as -0.0
 *       where ND4J writes 0.0, and an infinite one as NaN; equal values otherwise);</li>
 *   <li>{@code add_bp}, {@code reshape} and {@code permute} copy their input where a view or the input itself
 *       serves: add's gradient with respect to a same-shaped operand is the incoming gradient.</li>
 * </ul>
 * A shortcut returns null when it does not apply (shapes, types, arguments), and the op runs its own kernel.
 * Outputs may share arrays with inputs: inside {@link FixedGraphExecutor} no op writes into its inputs.
 */
final class KernelShortcuts {

    /** Allocation of a step's outputs, as the executor does it (reused between calls). */
    interface Outputs {
        INDArray get(int index, DataType type, long[] shape);

        /**
         * Whether anything reads output {@code index}. The gradient of a frozen operand is not read: with frozen
         * BatchNormalization that is half of multiply_bp's work and all of add_bp's.
         */
        boolean needed(int index);

        /** Whether input {@code index} is a weight or constant of the graph (not computed in this call). */
        boolean stored(int index);

        /** A scratch array owned by this step, reused between calls. */
        INDArray scratch(int index, DataType type, long[] shape);
    }

    interface Shortcut {
        INDArray[] run(CustomOp op, INDArray[] in, long[][] outShapes, DataType[] outTypes, Outputs outputs);
    }

    private static final Map<String, Shortcut> BY_OP = Map.of(
            "relu6_bp", KernelShortcuts::relu6Backward,
            "multiply_bp", KernelShortcuts::multiplyBackward,
            "add_bp", KernelShortcuts::addBackward,
            "reshape", KernelShortcuts::reshape,
            "permute", KernelShortcuts::permute);

    private KernelShortcuts() {
    }

    /** The shortcut for this op type, or null. */
    static Shortcut forOp(String opName) {
        return BY_OP.get(opName);
    }

    /** d relu6(x) = eps where 0 < x < 6, else 0 (ND4J's relu6Derivative); x * (6 - x) > 0 exactly there. */
    private static INDArray[] relu6Backward(CustomOp op, INDArray[] in, long[][] outShapes, DataType[] outTypes, Outputs outputs) {
        if (in.length != 2 || !floats(in[0], in[1]) || outTypes[0] != DataType.FLOAT
                || !Arrays.equals(in[0].shape(), in[1].shape()) || !zeroCutoff(op)) {
            return null;
        }
        INDArray x = in[0];
        INDArray mask = outputs.scratch(0, DataType.FLOAT, x.shape());
        Nd4j.exec(new ScalarReverseSubtraction(x, null, mask, 6.0));
        exec("multiply", new INDArray[]{mask, x}, mask);
        Nd4j.exec(new Step(mask, mask, 0.0));
        INDArray out = outputs.get(0, DataType.FLOAT, x.shape());
        exec("multiply", new INDArray[]{in[1], mask}, out);
        return new INDArray[]{out};
    }

    /** d(x * y): eps * y and eps * x, each summed over the axes its operand was broadcast along. */
    private static INDArray[] multiplyBackward(CustomOp op, INDArray[] in, long[][] outShapes, DataType[] outTypes, Outputs outputs) {
        if (in.length != 3 || !floats(in) || outTypes[0] != DataType.FLOAT || outTypes[1] != DataType.FLOAT) return null;
        INDArray x = in[0];
        INDArray y = in[1];
        INDArray eps = in[2];
        int[] xAxes = broadcastAxes(x.shape(), eps.shape());
        int[] yAxes = broadcastAxes(y.shape(), eps.shape());
        if (xAxes == null || yAxes == null) return null;
        return new INDArray[]{
                outputs.needed(0) ? operandGradient(eps, y, x.shape(), xAxes, outputs, 0) : null,
                outputs.needed(1) ? operandGradient(eps, x, y.shape(), yAxes, outputs, 1) : null};
    }

    /** eps * other, summed over {@code axes} into an array of {@code shape}. */
    private static INDArray operandGradient(INDArray eps, INDArray other, long[] shape, int[] axes, Outputs outputs, int index) {
        INDArray out = outputs.get(index, DataType.FLOAT, shape);
        if (axes.length == 0) {
            // Same element count; the operand may lack eps's leading 1s ([C] against [1, C]).
            exec("multiply", new INDArray[]{eps, other}, out.reshape('c', eps.shape()));
            return out;
        }
        INDArray product = outputs.scratch(index, DataType.FLOAT, eps.shape());
        exec("multiply", new INDArray[]{eps, other}, product);
        sum(product, axes, out);
        return out;
    }

    /** d(x + y): eps itself for a same-shaped operand, eps summed over the broadcast axes for the other. */
    private static INDArray[] addBackward(CustomOp op, INDArray[] in, long[][] outShapes, DataType[] outTypes, Outputs outputs) {
        if (in.length != 3 || !floats(in) || outTypes[0] != DataType.FLOAT || outTypes[1] != DataType.FLOAT) return null;
        INDArray eps = in[2];
        INDArray[] out = new INDArray[2];
        for (int k = 0; k < 2; k++) {
            int[] axes = broadcastAxes(in[k].shape(), eps.shape());
            if (axes == null) return null;
            if (!outputs.needed(k)) {
                out[k] = null;
            } else if (axes.length == 0) {
                out[k] = java.util.Arrays.equals(eps.shape(), in[k].shape()) ? eps : eps.reshape('c', in[k].shape());
            } else {
                out[k] = outputs.get(k, DataType.FLOAT, in[k].shape());
                sum(eps, axes, out[k]);
            }
        }
        return out;
    }

    /** A reshape of a dense row-major array is a view of it (float only: the shortcut's other checks are). */
    private static INDArray[] reshape(CustomOp op, INDArray[] in, long[][] outShapes, DataType[] outTypes, Outputs outputs) {
        INDArray x = in[0];
        long[] shape = outShapes[0];
        if (!floats(x) || !dense(x) || outTypes[0] != x.dataType() || shape.length == 0) return null;
        long length = 1;
        for (long d : shape) length *= d;
        if (length != x.length()) return null;
        return new INDArray[]{x.reshape('c', shape)};
    }

    /**
     * A permute of a weight is a view with permuted strides. Convolution weights go through one each step
     * (ONNX's [O, I, kH, kW] to libnd4j's [kH, kW, I, O]), and ND4J's convolutions read strided weights. Only
     * weights: ND4J 1.0.0-M2.1's NHWC conv2d reads a strided *input* as if it were dense (StridedInputTest).
     */
    private static INDArray[] permute(CustomOp op, INDArray[] in, long[][] outShapes, DataType[] outTypes, Outputs outputs) {
        if (!outputs.stored(0)) return null;
        INDArray x = in[0];
        long[] axes = op.iArgs();
        if (!floats(x) || outTypes[0] != x.dataType() || in.length != 1 || axes == null || axes.length != x.rank()) return null;
        int[] perm = new int[axes.length];
        for (int i = 0; i < perm.length; i++) perm[i] = (int) axes[i];
        INDArray view = x.permute(perm);
        return Arrays.equals(view.shape(), outShapes[0]) ? new INDArray[]{view} : null;
    }

    /** Sums {@code a} over {@code axes} into {@code out}, whose shape keeps the summed axes as 1 (or drops leading ones). */
    private static void sum(INDArray a, int[] axes, INDArray out) {
        long[] reduced = new long[a.rank() - axes.length];
        for (int d = 0, j = 0, k = 0; d < a.rank(); d++) {
            if (k < axes.length && axes[k] == d) k++;
            else reduced[j++] = a.size(d);
        }
        INDArray target = reduced.length == 0 ? out.reshape() : out.reshape('c', reduced);
        Nd4j.exec(DynamicCustomOp.builder("reduce_sum").addInputs(a).addOutputs(target).addIntegerArguments(axes).build());
    }

    /**
     * The axes of {@code full} along which an operand of {@code shape} is broadcast (numpy rules, shape
     * aligned right); null when it is not a plain broadcast of {@code full}.
     */
    static int[] broadcastAxes(long[] shape, long[] full) {
        if (shape.length > full.length) return null;
        int offset = full.length - shape.length;
        int[] axes = new int[full.length];
        int n = 0;
        for (int d = 0; d < full.length; d++) {
            long s = d < offset ? 1 : shape[d - offset];
            if (s == full[d]) continue;
            if (s != 1) return null;
            axes[n++] = d;
        }
        return Arrays.copyOf(axes, n);
    }

    /** Float and not empty; any strides (the kernels used here read strided arrays). */
    private static boolean floats(INDArray... arrays) {
        for (INDArray a : arrays) {
            if (a == null || a.dataType() != DataType.FLOAT || a.isEmpty()) return false;
        }
        return true;
    }

    private static boolean dense(INDArray a) {
        return a.ordering() == 'c' && org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(a);
    }

    private static boolean zeroCutoff(CustomOp op) {
        double[] t = op.tArgs();
        return t == null || t.length == 0 || t[0] == 0.0;
    }

    private static void exec(String op, INDArray[] inputs, INDArray output) {
        Nd4j.exec(DynamicCustomOp.builder(op).addInputs(inputs).addOutputs(output).build());
    }
}
