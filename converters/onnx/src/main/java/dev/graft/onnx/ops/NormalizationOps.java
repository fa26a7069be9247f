package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.OnnxTensors;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

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
            SDVariable[] p = spatial ? channelShaped(ctx, rank, scale, bias, mean, var)
                    : new SDVariable[]{scale, bias, mean, var};
            ctx.setOutput(n, 0, affine(x, p[0], p[1], p[2], p[3], eps));
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
     * Inference form with fixed statistics as one scale and one shift per channel, x * a + b with
     * a = scale / sqrt(var + eps) and b = bias - mean * a: two passes over the activations instead of three
     * (the per-channel terms are tiny), and every term stays differentiable.
     */
    private static SDVariable affine(SDVariable x, SDVariable scale, SDVariable bias, SDVariable mean,
                                     SDVariable var, double eps) {
        SDVariable a = x.getSameDiff().math().rsqrt(var.add(eps)).mul(scale);
        SDVariable b = bias.sub(mean.mul(a));
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
