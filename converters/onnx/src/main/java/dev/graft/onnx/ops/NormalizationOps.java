package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.OnnxTensors;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Normalizations over channel axis 1 (BatchNormalization, InstanceNormalization, LRN) or trailing axes
 * (LayerNormalization). Scale and bias stay whatever the importer made them (trainable variables for float
 * initializers); the statistics are computed with plain SameDiff ops so that gradients flow through them.
 */
public final class NormalizationOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        // Opset 1 and 6 carry is_test/spatial; 7 drops is_test (training is chosen by the output count);
        // 9 drops spatial; 14 makes training an attribute and returns the running statistics.
        r.importer("BatchNormalization", 1, NormalizationOps::batchNormLegacy);
        r.importer("BatchNormalization", 7, NormalizationOps::batchNorm7);
        r.importer("BatchNormalization", 9, NormalizationOps::batchNorm9);
        r.importer("BatchNormalization", 14, NormalizationOps::batchNorm14);
        r.importer("InstanceNormalization", 1, NormalizationOps::instanceNorm);
        r.importer("LayerNormalization", 17, NormalizationOps::layerNorm);
        r.importer("LRN", 1, NormalizationOps::lrn);

        // The importers above build every normalization from primitive ops; these are the fused ops of graphs
        // built by hand (sd.nn.batchNorm, sd.nn.layerNorm).
        r.exporter("batchnorm", NormalizationOps::exportBatchNorm);
        r.exporter("layer_norm", NormalizationOps::exportLayerNorm);
    }

    // ---------------------------------------------------------------- export

    /**
     * libnd4j's batchnorm: inputs x, mean, variance, then gamma and beta when its first two integer arguments
     * say they are applied; the remaining integer arguments are the channel axis; epsilon is the float argument.
     * y = (x - mean) / sqrt(var + eps) * gamma + beta. Channel axis 1 is ONNX's BatchNormalization (absent gamma
     * and beta become ones and zeros); another axis is written out with the statistics shaped to broadcast.
     */
    private static void exportBatchNorm(SameDiffOp op, ExportContext ctx) {
        long[] i = ExportContext.intArgs(op);
        double[] t = ExportContext.floatArgs(op);
        boolean applyGamma = i.length > 0 && i[0] != 0;
        boolean applyBeta = i.length > 1 && i[1] != 0;
        if (i.length != 3) throw ctx.error(op, "batchnorm over " + Math.max(0, i.length - 2) + " axes is not supported (one channel axis)");
        if (ctx.inputCount(op) != 3 + (applyGamma ? 1 : 0) + (applyBeta ? 1 : 0)) {
            throw ctx.error(op, "has " + ctx.inputCount(op) + " inputs, expected x, mean, variance"
                    + (applyGamma ? ", gamma" : "") + (applyBeta ? ", beta" : ""));
        }
        double eps = t.length > 0 ? t[0] : 1e-5;
        String x = ctx.input(op, 0);
        String mean = ctx.input(op, 1);
        String var = ctx.input(op, 2);
        String gamma = applyGamma ? ctx.input(op, 3) : null;
        String beta = applyBeta ? ctx.input(op, applyGamma ? 4 : 3) : null;
        int rank = ctx.rank(x);
        int axis = (int) (i[2] < 0 ? i[2] + rank : i[2]);
        DataType type = ctx.dataType(x);
        if (axis == 1 && rank >= 2) {
            long channels = ctx.probeShape(mean)[0];
            if (gamma == null) gamma = ctx.constant(Nd4j.ones(type, channels));
            if (beta == null) beta = ctx.constant(Nd4j.zeros(type, channels));
            ctx.node("BatchNormalization", x, gamma, beta, mean, var).attr("epsilon", (float) eps).to(ctx.output(op, 0));
            return;
        }
        int trailing = rank - 1 - axis;
        mean = channelShaped(ctx, mean, trailing);
        String scale = ctx.node("Sqrt", ctx.node("Add", channelShaped(ctx, var, trailing), ctx.scalar(type, eps)).build()).build();
        scale = gamma == null ? ctx.node("Reciprocal", scale).build()
                : ctx.node("Div", channelShaped(ctx, gamma, trailing), scale).build();
        ExportContext.NodeBuilder scaled = ctx.node("Mul", ctx.node("Sub", x, mean).build(), scale);
        if (beta == null) {
            scaled.to(ctx.output(op, 0));
        } else {
            ctx.node("Add", scaled.build(), channelShaped(ctx, beta, trailing)).to(ctx.output(op, 0));
        }
    }

    /** A [C] vector as [C, 1, ..., 1] with {@code trailing} ones, to broadcast along a channel axis. */
    private static String channelShaped(ExportContext ctx, String v, int trailing) {
        if (trailing == 0) return v;
        long[] axes = new long[trailing];
        for (int k = 0; k < trailing; k++) axes[k] = k + 1;
        return ctx.node("Unsqueeze", v, ctx.longs(axes)).build();
    }

    /**
     * libnd4j's layer_norm: standardize over the given axes ((x - mean) / std, biased, no epsilon), then gain
     * [C] and bias [C] along the channel axis (1 when channels-first, else the last). From opset 17 the common
     * form (the last axis, which is the channel axis) is one LayerNormalization; otherwise it is written out.
     */
    private static void exportLayerNorm(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        String gain = ctx.input(op, 1);
        String bias = ctx.inputCount(op) > 2 ? ctx.input(op, 2) : null;
        int rank = ctx.rank(x);
        boolean[] b = ExportContext.boolArgs(op);
        boolean channelsFirst = b.length == 0 || b[0];
        int channelAxis = channelsFirst && rank > 2 ? 1 : rank - 1;
        long[] dims = ExportContext.intArgs(op).clone();
        if (dims.length == 0) throw ctx.error(op, "has no axes to normalize over");
        for (int k = 0; k < dims.length; k++) if (dims[k] < 0) dims[k] += rank;
        java.util.Arrays.sort(dims);
        DataType type = ctx.dataType(x);
        // ONNX Runtime's LayerNormalization wants a scale of x.shape[axis:], so the fused form is for one axis.
        if (ctx.opset() >= 17 && dims.length == 1 && dims[0] == rank - 1 && channelAxis == rank - 1) {
            // ONNX divides by sqrt(var + epsilon); 1e-24 changes nothing in float where var is not tiny and turns
            // a constant row's 0 / 0 into 0, what libnd4j gives (it replaces NaN by 0).
            ExportContext.NodeBuilder n = bias == null ? ctx.node("LayerNormalization", x, gain)
                    : ctx.node("LayerNormalization", x, gain, bias);
            n.attr("axis", dims[0]).attr("epsilon", 1e-24f).to(ctx.output(op, 0));
            return;
        }
        String mean = reduceMean(ctx, x, dims);
        String d = ctx.node("Sub", x, mean).build();
        String var = reduceMean(ctx, ctx.node("Mul", d, d).build(), dims);
        // std + 1e-12: a constant row gives 0 / 1e-12 = 0, as libnd4j's 0 / 0 with NaN replaced by 0 does.
        String std = ctx.node("Add", ctx.node("Sqrt", var).build(), ctx.scalar(type, 1e-12)).build();
        String y = ctx.node("Div", d, std).build();
        int after = rank - 1 - channelAxis;
        ExportContext.NodeBuilder scaled = ctx.node("Mul", y, channelShaped(ctx, gain, after));
        if (bias == null) {
            scaled.to(ctx.output(op, 0));
        } else {
            ctx.node("Add", scaled.build(), channelShaped(ctx, bias, after)).to(ctx.output(op, 0));
        }
    }

    /** ReduceMean keeping the axes: axes as an attribute before opset 18, as an input from 18. */
    private static String reduceMean(ExportContext ctx, String x, long[] axes) {
        if (ctx.opset() >= 18) {
            return ctx.node("ReduceMean", x, ctx.longs(axes)).attr("keepdims", 1L).build();
        }
        return ctx.node("ReduceMean", x).attr("axes", axes).attr("keepdims", 1L).build();
    }

    // ---------------------------------------------------------------- BatchNormalization

    /** Opsets 1-6: is_test=0 (the default) is the training form, spatial=0 normalizes per element. */
    private static void batchNormLegacy(OnnxNode n, ImportContext ctx) {
        boolean training = n.getLong("is_test", 0) == 0;
        batchNorm(n, ctx, n.getLong("spatial", 1) != 0, training, false);
    }

    /** Opsets 7-8: training form when the node asks for the statistics outputs. */
    private static void batchNorm7(OnnxNode n, ImportContext ctx) {
        batchNorm(n, ctx, n.getLong("spatial", 1) != 0, n.outputCount() > 1, false);
    }

    /** Opsets 9-13: like 7 without spatial (always per channel). */
    private static void batchNorm9(OnnxNode n, ImportContext ctx) {
        batchNorm(n, ctx, true, n.outputCount() > 1, false);
    }

    /** Opsets 14+: training_mode attribute; outputs 1 and 2 are the updated running mean and variance. */
    private static void batchNorm14(OnnxNode n, ImportContext ctx) {
        batchNorm(n, ctx, true, n.getLong("training_mode", 0) != 0, true);
    }

    private static void batchNorm(OnnxNode n, ImportContext ctx, boolean spatial, boolean training,
                                  boolean runningOutputs) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        SDVariable scale = ctx.input(n, 1);
        SDVariable bias = ctx.input(n, 2);
        // The running statistics stay variables, as every float initializer does: they are the model's state,
        // and fine-tuning decides per BatchNormalization whether they are frozen, re-estimated or trained
        // (issue #4's bn: frozen | stats | train); gradient steps on them are never taken by default.
        SDVariable mean = ctx.input(n, 3);
        SDVariable var = ctx.input(n, 4);
        double eps = n.getFloat("epsilon", 1e-5f);
        int rank = ctx.inputRank(n, 0);
        if (rank < 2) throw n.error("input rank " + rank + " is below 2");
        if (!training) {
            n.unsupportedIf(n.outputCount() > 1 && runningOutputs, "BatchNormalization statistics outputs without training_mode");
            // Written out rather than SameDiff's batchNorm op: in ND4J 1.0.0-M2.1 that op's gradient cannot be
            // built (BatchNormDerivative loses the axis), which would make the model untrainable.
            // spatial=0: the statistics have the shape of one sample and broadcast over the batch axis as they are.
            // Inference form as one scale and one shift per channel, x * a + b with a = scale / sqrt(var + eps) and
            // b = bias - mean * a: two passes over the activations instead of three, every term differentiable.
            // a and b are computed on the [C] vectors and only then shaped [C, 1, ..., 1]: two reshapes (and their
            // gradients) a node instead of four, which counts when BatchNormalization's scale and shift train.
            SDVariable a = sd.math().rsqrt(var.add(eps)).mul(scale);
            SDVariable b = bias.sub(mean.mul(a));
            SDVariable[] ab = spatial ? channelShaped(ctx, rank, a, b) : new SDVariable[]{a, b};
            ctx.setOutput(n, 0, scaleShift(x, ab[0], ab[1]));
            return;
        }
        n.unsupportedIf(!spatial, "BatchNormalization training form with spatial=0");
        n.unsupportedIf(n.hasOutput(3) || n.hasOutput(4), "BatchNormalization saved_mean/saved_var outputs");
        // Statistics of this batch over every axis but the channel axis; the variance is the biased one.
        int[] axes = new int[rank - 1];
        axes[0] = 0;
        for (int i = 2; i < rank; i++) axes[i - 1] = i;
        SDVariable batchMean = sd.mean(x, axes);
        SDVariable batchVar = sd.variance(x, false, axes);
        SDVariable[] p = channelShaped(ctx, rank, scale, bias, batchMean, batchVar);
        ctx.setOutput(n, 0, normalize(x, p[0], p[1], p[2], p[3], eps));
        double momentum = n.getFloat("momentum", 0.9f);
        // running = running * momentum + batch * (1 - momentum)
        ctx.setOutput(n, 1, mean.mul(momentum).add(batchMean.mul(1 - momentum)));
        ctx.setOutput(n, 2, var.mul(momentum).add(batchVar.mul(1 - momentum)));
    }

    /**
     * x * a + b for per-channel a and b that broadcast against the activations x. Training speed comes from
     * graft's executor: ND4J 1.0.0-M2.1's own multiply_bp with a broadcast operand takes 9 to 57 ms at
     * MobileNetV2's shapes, and dev.graft.exec.KernelShortcuts computes the same gradient with a broadcast
     * multiply and a sum (3 ms). TensorFlow's FusedBatchNorm importer uses it too.
     */
    public static SDVariable scaleShift(SDVariable x, SDVariable a, SDVariable b) {
        return x.mul(a).add(b);
    }

    /** (x - mean) / sqrt(var + eps) * scale + bias, written out so every term stays differentiable. */
    private static SDVariable normalize(SDVariable x, SDVariable scale, SDVariable bias, SDVariable mean,
                                        SDVariable var, double eps) {
        SDVariable inv = x.getSameDiff().math().rsqrt(var.add(eps));
        return x.sub(mean).mul(inv.mul(scale)).add(bias);
    }

    /** Reshapes [C] vectors to [C, 1, ..., 1] so they broadcast against [N, C, D1, ...]. */
    private static SDVariable[] channelShaped(ImportContext ctx, int rank, SDVariable... vs) {
        long[] shape = new long[rank - 1];
        java.util.Arrays.fill(shape, 1);
        shape[0] = -1;
        SDVariable[] out = new SDVariable[vs.length];
        for (int i = 0; i < vs.length; i++) {
            out[i] = rank == 2 ? vs[i] : ctx.sd().reshape(vs[i], shape);
        }
        return out;
    }

    // ---------------------------------------------------------------- InstanceNormalization

    /** Per sample and channel: statistics over the spatial axes (biased variance). */
    private static void instanceNorm(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        int rank = ctx.inputRank(n, 0);
        if (rank < 3) throw n.error("input rank " + rank + " is below 3");
        double eps = n.getFloat("epsilon", 1e-5f);
        int[] axes = new int[rank - 2];
        for (int i = 2; i < rank; i++) axes[i - 2] = i;
        SDVariable mean = sd.mean(x, true, axes);
        SDVariable diff = x.sub(mean);
        SDVariable var = sd.mean(diff.mul(diff), true, axes);
        SDVariable[] p = channelShaped(ctx, rank, ctx.input(n, 1), ctx.input(n, 2));
        SDVariable inv = sd.math().rsqrt(var.add(eps));
        ctx.setOutput(n, 0, diff.mul(inv).mul(p[0]).add(p[1]));
    }

    // ---------------------------------------------------------------- LayerNormalization

    /**
     * Normalizes over axes [axis, rank). Statistics are computed in stash_type; Mean and InvStdDev keep the
     * reduced axes as 1, as ONNX specifies.
     */
    private static void layerNorm(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        int rank = ctx.inputRank(n, 0);
        int axis = ImportContext.axis(n, n.getLong("axis", -1), rank);
        double eps = n.getFloat("epsilon", 1e-5f);
        DataType stash = OnnxTensors.toNd4j((int) n.getLong("stash_type", 1), n.describe() + " stash_type");
        n.unsupportedIf(!stash.isFPType(), "stash_type " + stash);
        DataType xType = x.dataType();
        SDVariable xs = xType == stash ? x : x.castTo(stash);
        int[] axes = new int[rank - axis];
        for (int i = axis; i < rank; i++) axes[i - axis] = i;
        SDVariable mean = sd.mean(xs, true, axes);
        SDVariable diff = xs.sub(mean);
        SDVariable var = sd.mean(diff.mul(diff), true, axes);
        SDVariable invStd = sd.math().reciprocal(sd.math().sqrt(var.add(eps)));
        SDVariable normalized = diff.mul(invStd);
        if (xType != stash) normalized = normalized.castTo(xType);
        SDVariable y = normalized.mul(ctx.input(n, 1));
        SDVariable bias = ctx.optionalInput(n, 2);
        if (bias != null) y = y.add(bias);
        ctx.setOutput(n, 0, y);
        ctx.setOutput(n, 1, mean);
        ctx.setOutput(n, 2, invStd);
    }

    // ---------------------------------------------------------------- LRN

    /**
     * y = x / (bias + alpha / size * sum of squares over channels [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta.
     * The window sum is a sum of shifted slices of the zero-padded squares, so even sizes (asymmetric
     * windows) and dynamic channel counts work; libnd4j's lrn only has symmetric windows.
     */
    private static void lrn(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        int rank = ctx.inputRank(n, 0);
        if (rank < 3) throw n.error("input rank " + rank + " is below 3");
        int size = n.requireInt("size");
        if (size < 1) throw n.error("size " + size + " must be positive");
        double alpha = n.getFloat("alpha", 1e-4f);
        double beta = n.getFloat("beta", 0.75f);
        double bias = n.getFloat("bias", 1.0f);
        int before = (size - 1) / 2;
        int after = size - 1 - before;
        SDVariable sq = x.mul(x);
        long[][] pads = new long[rank][2];
        pads[1][0] = before;
        pads[1][1] = after;
        SDVariable padded = sd.nn().pad(sq, ctx.constant(org.nd4j.linalg.factory.Nd4j.createFromArray(pads)
                .castTo(DataType.INT)), 0.0);
        SDVariable sum = null;
        for (int k = 0; k < size; k++) {
            long[] begin = new long[rank];
            long[] end = new long[rank];
            long[] strides = new long[rank];
            java.util.Arrays.fill(strides, 1);
            begin[1] = k;
            // Window k runs from k to padded length - (size - 1 - k); a 0 end means "to the end".
            int tail = size - 1 - k;
            end[1] = -tail;
            int endMask = 0;
            for (int d = 0; d < rank; d++) if (d != 1 || tail == 0) endMask |= 1 << d;
            int beginMask = 0;
            for (int d = 0; d < rank; d++) if (d != 1) beginMask |= 1 << d;
            SDVariable part = sd.stridedSlice(padded, begin, end, strides, beginMask, endMask, 0, 0, 0);
            sum = sum == null ? part : sum.add(part);
        }
        SDVariable denom = sum.mul(alpha / size).add(bias).pow(beta);
        ctx.setOutput(n, 0, x.div(denom));
    }
}
