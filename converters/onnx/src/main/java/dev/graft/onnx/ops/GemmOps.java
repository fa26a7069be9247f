package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import java.util.Arrays;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Gemm (Y = alpha * A' * B' + beta * C) and MatMul (numpy matmul semantics). */
public final class GemmOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("Gemm", 1, GemmOps::gemmLegacy);
        // From opset 7 C broadcasts unidirectionally (numpy) to [M, N]; from 11 it is optional.
        r.importer("Gemm", 7, GemmOps::gemm);
        r.importer("MatMul", 1, GemmOps::matmul);

        r.exporter("matmul", GemmOps::exportMatmul);
        r.exporter("xw_plus_b", GemmOps::exportXwPlusB);
        r.exporter("biasadd", GemmOps::exportBiasAdd);
    }

    /**
     * sd.nn.linear (libnd4j's xw_plus_b): x [N, K] times W [K, M] (W [M, K] when its integer argument is 1) plus
     * b [M], exactly one Gemm.
     */
    private static void exportXwPlusB(SameDiffOp op, ExportContext ctx) {
        long[] i = ExportContext.intArgs(op);
        boolean transB = i.length > 0 && i[0] == 1;
        String x = ctx.input(op, 0);
        if (ctx.rank(x) != 2 || ctx.rank(ctx.input(op, 1)) != 2) {
            throw ctx.error(op, "xw_plus_b needs a rank-2 input and weights, got ranks " + ctx.rank(x) + " and "
                    + ctx.rank(ctx.input(op, 1)));
        }
        ctx.node("Gemm", x, ctx.input(op, 1), ctx.input(op, 2)).attr("transB", transB ? 1L : 0L).to(ctx.output(op, 0));
    }

    /**
     * biasAdd: b [C] added along the channel axis, the last one unless the op says NCHW (axis 1). Rank 2 and
     * channels-last are numpy broadcasting as is; channels-first gets [C, 1, ..., 1] first.
     */
    private static void exportBiasAdd(SameDiffOp op, ExportContext ctx) {
        boolean[] b = ExportContext.boolArgs(op);
        boolean nchw = b.length > 0 && b[0];
        String x = ctx.input(op, 0);
        String bias = ctx.input(op, 1);
        int rank = ctx.rank(x);
        if (nchw && rank > 2) {
            long[] axes = new long[rank - 2];
            for (int k = 0; k < axes.length; k++) axes[k] = k + 1;
            bias = ctx.node("Unsqueeze", bias, ctx.longs(axes)).build();
        }
        ctx.node("Add", x, bias).to(ctx.output(op, 0));
    }

    /**
     * SameDiff's mmul (transpose flags, alpha) as MatMul; transposed operands of rank 2 become one Gemm,
     * other ranks swap their last two axes first. A transposed result is the product of the operands in the
     * other order with their flags flipped, (op(A) op(B))^T = op(B)^T op(A)^T, so it needs no Transpose of its own.
     */
    private static void exportMatmul(SameDiffOp op, ExportContext ctx) {
        long[] flags = ExportContext.intArgs(op);
        boolean ta = flags.length > 0 && flags[0] != 0;
        boolean tb = flags.length > 1 && flags[1] != 0;
        boolean tr = flags.length > 2 && flags[2] != 0;
        double[] t = ExportContext.floatArgs(op);
        double alpha = t.length > 0 ? t[0] : 1.0;
        String a = ctx.input(op, 0);
        String b = ctx.input(op, 1);
        if (tr) {
            String first = b;
            boolean flipA = !tb;
            b = a;
            tb = !ta;
            a = first;
            ta = flipA;
        }
        String out = ctx.output(op, 0);
        int ra = ctx.rank(a);
        int rb = ctx.rank(b);
        if (ra == 2 && rb == 2 && (ta || tb || alpha != 1.0)) {
            ctx.node("Gemm", a, b).attr("transA", ta ? 1L : 0L).attr("transB", tb ? 1L : 0L)
                    .attr("alpha", (float) alpha).to(out);
            return;
        }
        if (ta) a = swapLastTwo(ctx, a, ra);
        if (tb) b = swapLastTwo(ctx, b, rb);
        if (alpha == 1.0) {
            ctx.node("MatMul", a, b).to(out);
        } else {
            ctx.node("Mul", ctx.node("MatMul", a, b).build(), ctx.scalar(ctx.dataType(ctx.input(op, 0)), alpha)).to(out);
        }
    }

    private static String swapLastTwo(ExportContext ctx, String x, int rank) {
        return ctx.node("Transpose", x).attr("perm", swapPerm(rank)).build();
    }

    private static long[] swapPerm(int rank) {
        long[] perm = new long[rank];
        for (int i = 0; i < rank; i++) perm[i] = i;
        perm[rank - 2] = rank - 1;
        perm[rank - 1] = rank - 2;
        return perm;
    }

    /**
     * Opsets 1-6: C is required and is used as is when {@code broadcast=0} (then it must be [M, N]) or
     * broadcast to [M, N] when {@code broadcast=1}, which for valid models is numpy broadcasting.
     */
    private static void gemmLegacy(OnnxNode n, ImportContext ctx) {
        if (n.getLong("broadcast", 0) == 0 && n.hasInput(2)) {
            long[] c = ctx.inputShape(n, 2);
            if (c.length != 2) {
                throw n.error("C of rank " + c.length + " needs broadcast=1");
            }
        }
        gemm(n, ctx);
    }

    private static void gemm(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        SDVariable a = ctx.input(n, 0);
        SDVariable b = ctx.input(n, 1);
        SDVariable c = ctx.optionalInput(n, 2);
        float alpha = n.getFloat("alpha", 1f);
        float beta = n.getFloat("beta", 1f);
        DataType type = a.dataType();
        SDVariable y = sd.mmul(compute(a), compute(b), n.getLong("transA", 0) != 0, n.getLong("transB", 0) != 0, false);
        if (alpha != 1f) y = y.mul(alpha);
        if (c != null && beta != 0f) {
            c = compute(c);
            y = y.add(beta == 1f ? c : c.mul(beta));
        }
        y = fromCompute(y, type);
        ctx.setOutput(n, 0, y);
    }

    /**
     * numpy matmul: a 1-D operand gets a size-1 dim (prepended for A, appended for B) that is removed
     * from the result; batch dims (all but the last two) broadcast.
     */
    private static void matmul(OnnxNode n, ImportContext ctx) {
        DataType type = ctx.input(n, 0).dataType();
        long[] sa = ctx.inputShape(n, 0);
        long[] sb = ctx.inputShape(n, 1);
        if (sa.length == 0 || sb.length == 0) {
            throw n.error("MatMul operands must have rank >= 1, got " + sa.length + " and " + sb.length);
        }
        SDVariable y = numpyMatMul(ctx.sd(), compute(ctx.input(n, 0)), compute(ctx.input(n, 1)), sa, sb);
        ctx.setOutput(n, 0, fromCompute(y, type));
    }

    /**
     * numpy's matmul of operands with static ranks {@code sa.length}, {@code sb.length} >= 1 (sizes may be -1),
     * shared with the TensorFlow importer's BatchMatMul.
     */
    public static SDVariable numpyMatMul(SameDiff sd, SDVariable a, SDVariable b, long[] sa, long[] sb) {
        boolean vecA = sa.length == 1;
        boolean vecB = sb.length == 1;
        if (vecA) {
            a = sd.expandDims(a, 0);
            sa = new long[]{1, sa[0]};
        }
        if (vecB) {
            b = sd.expandDims(b, 1);
            sb = new long[]{sb[0], 1};
        }
        SDVariable y;
        if (sa.length == 2 && sb.length == 2) {
            y = sd.mmul(a, b);
        } else if (sb.length == 2) {
            // [..., M, K] x [K, N]: one 2-D product over the flattened batch (the common Linear case).
            y = sd.reshape(sd.mmul(flattenBatch(sd, a, sa), b), batchedShape(sd, a, sa, b, sb));
        } else {
            int rank = Math.max(sa.length, sb.length);
            for (int k = sa.length; k < rank; k++) a = sd.expandDims(a, 0);
            for (int k = sb.length; k < rank; k++) b = sd.expandDims(b, 0);
            long[] batchA = batchDims(sa, rank);
            long[] batchB = batchDims(sb, rank);
            boolean sameBatch = Arrays.equals(batchA, batchB) && Arrays.stream(batchA).allMatch(d -> d >= 0);
            if (!sameBatch) {
                // Broadcast the batch dims by adding zeros shaped [other's batch..., 1, 1].
                SDVariable za = sd.sum(sd.zerosLike(a), true, rank - 2, rank - 1);
                SDVariable zb = sd.sum(sd.zerosLike(b), true, rank - 2, rank - 1);
                a = a.add(zb);
                b = b.add(za);
            }
            y = sd.mmul(a, b);
        }
        int outRank = Math.max(sa.length, sb.length);
        if (vecB) {
            y = sd.squeeze(y, outRank - 1);
        }
        if (vecA) {
            y = sd.squeeze(y, outRank - 2);
        }
        return y;
    }

    /**
     * ND4J multiplies floating point matrices only; integer operands (MatMul and Gemm accept int32/int64
     * and unsigned) are multiplied in double, exact while every partial sum stays below 2^53. Half
     * precision is multiplied in float, as ND4J would otherwise accumulate in half (onnxruntime does not).
     */
    private static SDVariable compute(SDVariable x) {
        DataType t = x.dataType();
        if (t == DataType.FLOAT || t == DataType.DOUBLE) return x;
        return x.castTo(t == DataType.HALF || t == DataType.BFLOAT16 ? DataType.FLOAT : DataType.DOUBLE);
    }

    private static SDVariable fromCompute(SDVariable y, DataType type) {
        return y.dataType() == type ? y : y.castTo(type);
    }

    /** [..., M, K] -> [prod(...) * M, K], with the size taken at run time where it is dynamic. */
    private static SDVariable flattenBatch(SameDiff sd, SDVariable a, long[] sa) {
        long k = sa[sa.length - 1];
        if (k >= 0) {
            return sd.reshape(a, -1, k);
        }
        SDVariable dims = sd.shape(a).castTo(DataType.LONG);
        SDVariable k2 = sd.slice(dims, new int[]{sa.length - 1}, 1);
        return sd.reshape(a, sd.concat(0, sd.constant(Nd4j.createFromArray(-1L)), k2));
    }

    /** [..., M, N] for A = [..., M, K] and B = [K, N]. */
    private static SDVariable batchedShape(SameDiff sd, SDVariable a, long[] sa, SDVariable b, long[] sb) {
        long[] out = Arrays.copyOf(sa, sa.length);
        out[sa.length - 1] = sb[1];
        if (Arrays.stream(out).allMatch(d -> d >= 0)) {
            return sd.constant(Nd4j.createFromArray(out));
        }
        SDVariable dimsA = sd.shape(a).castTo(DataType.LONG);
        SDVariable dimsB = sd.shape(b).castTo(DataType.LONG);
        return sd.concat(0, sd.slice(dimsA, new int[]{0}, sa.length - 1), sd.slice(dimsB, new int[]{1}, 1));
    }

    /** The batch dims of a shape left-padded with 1s to the given rank. */
    private static long[] batchDims(long[] shape, int rank) {
        long[] out = new long[rank - 2];
        int pad = rank - shape.length;
        for (int k = 0; k < rank - 2; k++) {
            out[k] = k < pad ? 1 : shape[k - pad];
        }
        return out;
    }
}
