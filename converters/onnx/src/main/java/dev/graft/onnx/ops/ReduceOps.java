package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import java.util.Arrays;
import java.util.TreeSet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ops.BaseReduceOp;
import org.nd4j.linalg.api.ops.impl.summarystats.Variance;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reductions (ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSumExp/SumSquare) and ArgMax/ArgMin.
 *
 * <p>The reduced axes come from the {@code axes} attribute up to opset 17 (ReduceSum: 12) and from the
 * optional second input from opset 18 (ReduceSum: 13), which also brings {@code noop_with_empty_axes}.
 * Axes known at import time become fixed SameDiff dimensions; axes computed at run time go to SameDiff's
 * reduction ops as an integer input (see {@link #reduceDynamic}).
 */
public final class ReduceOps implements OnnxOpFamily {

    /** The reductions, each as a SameDiff expression over fixed or run-time dimensions. */
    enum Kind {
        SUM, MEAN, MAX, MIN, PROD, L1, L2, SUM_SQUARE, LOG_SUM_EXP
    }

    @Override
    public void register(ConverterRegistry.Builder r) {
        reduce(r, "ReduceSum", Kind.SUM, 13);
        reduce(r, "ReduceMean", Kind.MEAN, 18);
        reduce(r, "ReduceMax", Kind.MAX, 18);
        reduce(r, "ReduceMin", Kind.MIN, 18);
        reduce(r, "ReduceProd", Kind.PROD, 18);
        reduce(r, "ReduceL1", Kind.L1, 18);
        reduce(r, "ReduceL2", Kind.L2, 18);
        reduce(r, "ReduceSumSquare", Kind.SUM_SQUARE, 18);
        reduce(r, "ReduceLogSumExp", Kind.LOG_SUM_EXP, 18);
        // ArgMax/ArgMin: opset 11 allows negative axes and 12 adds select_last_index; both are read the
        // same way here, and absent attributes take their defaults, so one importer serves all versions.
        r.importer("ArgMax", 1, (n, ctx) -> argExtreme(n, ctx, true));
        r.importer("ArgMin", 1, (n, ctx) -> argExtreme(n, ctx, false));

        r.exporter("reduce_sum", (op, ctx) -> exportReduce(op, ctx, "ReduceSum"));
        r.exporter("reduce_mean", (op, ctx) -> exportReduce(op, ctx, "ReduceMean"));
        r.exporter("reduce_max", (op, ctx) -> exportReduce(op, ctx, "ReduceMax"));
        r.exporter("reduce_min", (op, ctx) -> exportReduce(op, ctx, "ReduceMin"));
        r.exporter("reduce_prod", (op, ctx) -> exportReduce(op, ctx, "ReduceProd"));
        r.exporter("reduce_norm1", (op, ctx) -> exportReduce(op, ctx, "ReduceL1"));
        r.exporter("reduce_norm2", (op, ctx) -> exportReduce(op, ctx, "ReduceL2"));
        r.exporter("reduce_sqnorm", (op, ctx) -> exportReduce(op, ctx, "ReduceSumSquare"));
        r.exporter("argmax", (op, ctx) -> exportArgExtreme(op, ctx, "ArgMax"));
        r.exporter("argmin", (op, ctx) -> exportArgExtreme(op, ctx, "ArgMin"));
        r.exporter("var", ReduceOps::exportVariance);
        r.exporter("cumsum", ReduceOps::exportCumSum);
    }

    // ---------------------------------------------------------------- export

    /**
     * A SameDiff reduction over fixed dimensions (none, or Integer.MAX_VALUE: all) or over dimensions given
     * as a second input. ONNX takes the axes as an input from opset 13 (ReduceSum) or 18 (the others), as an
     * attribute before; no axes means all. Mean and the norms of integer input are floating point in
     * SameDiff but keep the input type in ONNX: a Cast follows then.
     */
    private static void exportReduce(SameDiffOp op, ExportContext ctx, String onnxOp) {
        if (!(op.getOp() instanceof BaseReduceOp reduce)) throw ctx.error(op, "is not a reduction");
        String x = ctx.input(op, 0);
        ShapeOps.toOutput(ctx, reduceNode(op, ctx, onnxOp, x, reduceAxes(op, ctx), reduce.isKeepDims()),
                ctx.dataType(x), ctx.output(op, 0));
    }

    /** The reduced axes: a constant (empty: all axes) or, as a String, a run-time axes input. */
    private static Object reduceAxes(SameDiffOp op, ExportContext ctx) {
        if (ctx.inputCount(op) > 1) {
            String axes = ctx.input(op, 1);
            long[] v = ctx.constantLongs(axes);
            return v != null ? v : ShapeOps.int64(ctx, axes);
        }
        int[] dims = op.getOp().getDimensions();
        if (dims == null || (dims.length == 1 && dims[0] == Integer.MAX_VALUE)) return new long[0];
        return Arrays.stream(dims).asLongStream().toArray();
    }

    private static ExportContext.NodeBuilder reduceNode(SameDiffOp op, ExportContext ctx, String onnxOp, String x,
                                                        Object axes, boolean keep) {
        boolean axesInput = ctx.opset() >= (onnxOp.equals("ReduceSum") ? 13 : 18);
        ExportContext.NodeBuilder b;
        if (axes instanceof String runtime) {
            if (!axesInput) {
                throw ctx.error(op, onnxOp + " over axes computed at run time needs opset 18 or later (exporting "
                        + ctx.opset() + ")");
            }
            b = ctx.node(onnxOp, x, runtime);
        } else {
            long[] a = (long[]) axes;
            if (a.length == 0) b = ctx.node(onnxOp, x);
            else if (axesInput) b = ctx.node(onnxOp, x, ctx.longs(a));
            else b = ctx.node(onnxOp, x).attr("axes", a);
        }
        return b.attr("keepdims", keep ? 1L : 0L);
    }

    /**
     * argmax / argmin over one dimension, keepDims as the boolean argument; over all dimensions the input is
     * flattened first. ONNX returns int64.
     */
    private static void exportArgExtreme(SameDiffOp op, ExportContext ctx, String onnxOp) {
        String x = ctx.input(op, 0);
        String out = ctx.output(op, 0);
        boolean[] b = ExportContext.boolArgs(op);
        boolean keep = b.length > 0 && b[0];
        long[] dims = ctx.inputCount(op) > 1 ? ShapeOps.constantArg(op, ctx, 1, "dimensions") : ExportContext.intArgs(op);
        int rank = ctx.rank(x);
        if (dims.length == 1 && dims[0] != Integer.MAX_VALUE || rank == 1) {
            long axis = dims.length == 1 && dims[0] != Integer.MAX_VALUE ? dims[0] : 0;
            ShapeOps.toOutput(ctx, ctx.node(onnxOp, x).attr("axis", axis).attr("keepdims", keep ? 1L : 0L), DataType.LONG, out);
            return;
        }
        if (dims.length > 1 && dims.length != rank) {
            throw ctx.error(op, "over dimensions " + Arrays.toString(dims) + " (ONNX reduces one axis or, flattened, all)");
        }
        String flat = ctx.node("Reshape", x, ctx.longs(-1)).build();
        String idx = ctx.node(onnxOp, flat).attr("axis", 0L).attr("keepdims", 0L).build();
        ExportContext.NodeBuilder shaped = ctx.node("Reshape", idx, ctx.longs(keep ? IndexOperands.ones(rank) : new long[0]));
        ShapeOps.toOutput(ctx, shaped, DataType.LONG, out);
    }

    /**
     * Variance as mean((x - mean(x))^2) over the dimensions, times n / (n - 1) when bias-corrected (n the
     * number of reduced elements, computed in the graph from the sizes).
     */
    private static void exportVariance(SameDiffOp op, ExportContext ctx) {
        if (!(op.getOp() instanceof Variance v)) throw ctx.error(op, "is not a variance");
        String x = ctx.input(op, 0);
        String out = ctx.output(op, 0);
        DataType t = ctx.dataType(x);
        Object axes = reduceAxes(op, ctx);
        String mean = reduceNode(op, ctx, "ReduceMean", x, axes, true).build();
        String diff = ctx.node("Sub", x, mean).build();
        String sq = ctx.node("Mul", diff, diff).build();
        if (!v.isBiasCorrected()) {
            ShapeOps.toOutput(ctx, reduceNode(op, ctx, "ReduceMean", sq, axes, v.isKeepDims()), t, out);
            return;
        }
        String biased = reduceNode(op, ctx, "ReduceMean", sq, axes, v.isKeepDims()).build();
        String n = ctx.node("Div", ctx.node("Size", x).build(), ctx.node("Size", mean).build()).build();
        String nf = ctx.node("Cast", n).attr("to", (long) dev.graft.onnx.OnnxTensors.toOnnx(t)).build();
        String factor = ctx.node("Div", nf, ctx.node("Sub", nf, ctx.scalar(t, 1)).build()).build();
        ShapeOps.toOutput(ctx, ctx.node("Mul", biased, factor), t, out);
    }

    /** cumsum(x, exclusive, reverse, axis): the axis is an integer argument after the two flags, or an input. */
    private static void exportCumSum(SameDiffOp op, ExportContext ctx) {
        long[] a = ExportContext.intArgs(op);
        if (a.length < 2) throw ctx.error(op, "expects the exclusive and reverse flags, found " + Arrays.toString(a));
        String axis;
        if (ctx.inputCount(op) > 1) {
            axis = ShapeOps.int64(ctx, ctx.input(op, 1));
        } else {
            if (a.length != 3) throw ctx.error(op, "expects one axis, found " + Arrays.toString(a));
            axis = ctx.constant(Nd4j.scalar(DataType.LONG, a[2]));
        }
        ctx.node("CumSum", ctx.input(op, 0), axis).attr("exclusive", a[0]).attr("reverse", a[1]).to(ctx.output(op, 0));
    }

    /** Registers the axes-attribute version (opset 1) and the axes-input version of a reduction. */
    private static void reduce(ConverterRegistry.Builder r, String op, Kind kind, int axesInputSince) {
        r.importer(op, 1, (n, ctx) -> reduceWithAttributeAxes(n, ctx, kind));
        r.importer(op, axesInputSince, (n, ctx) -> reduceWithInputAxes(n, ctx, kind));
    }

    private static boolean keepDims(OnnxNode n) {
        long keep = n.getLong("keepdims", 1);
        n.unsupportedIf(keep != 0 && keep != 1, "keepdims=" + keep);
        return keep == 1;
    }

    /** Up to opset 17 (ReduceSum: 12): axes attribute, absent or empty meaning all axes. */
    private static void reduceWithAttributeAxes(OnnxNode n, ImportContext ctx, Kind kind) {
        long[] axes = n.getLongs("axes");
        SDVariable x = ctx.input(n, 0);
        ctx.setOutput(n, 0, reduceStatic(n, ctx, kind, x, axes == null ? new long[0] : axes, keepDims(n)));
    }

    /**
     * From opset 18 (ReduceSum: 13): optional axes input. Empty or omitted axes mean all axes, unless
     * {@code noop_with_empty_axes} is set, in which case nothing is reduced: as in the ONNX reference
     * implementation, each element still gets the reduction's per-element step (|x| for L1, x*x for
     * SumSquare, ...), which for Sum/Mean/Max/Min/Prod/LogSumExp is the input unchanged.
     */
    private static void reduceWithInputAxes(OnnxNode n, ImportContext ctx, Kind kind) {
        if (n.has("axes")) {
            throw n.error("the axes attribute was replaced by the axes input at this opset");
        }
        long noop = n.getLong("noop_with_empty_axes", 0);
        n.unsupportedIf(noop != 0 && noop != 1, "noop_with_empty_axes=" + noop);
        boolean keep = keepDims(n);
        SDVariable x = ctx.input(n, 0);
        if (n.hasInput(1) && !ctx.isStaticInput(n, 1)) {
            ctx.setOutput(n, 0, reduceDynamic(n, ctx, kind, x, ctx.input(n, 1), keep, noop == 1));
            return;
        }
        long[] axes = n.hasInput(1) ? ctx.optionalLongs(n, 1, "axes") : new long[0];
        if (axes.length == 0 && noop == 1) {
            ctx.setOutput(n, 0, sameType(ctx, reduceOverNothing(ctx, kind, x), x));
            return;
        }
        ctx.setOutput(n, 0, reduceStatic(n, ctx, kind, x, axes, keep));
    }

    /** Reduction over axes known at import time; no axes means all axes. */
    private static SDVariable reduceStatic(OnnxNode n, ImportContext ctx, Kind kind, SDVariable x, long[] axes,
                                           boolean keep) {
        int rank = ctx.inputRank(n, 0);
        TreeSet<Integer> set = new TreeSet<>();
        for (long a : axes) {
            set.add(ImportContext.axis(n, a, rank));
        }
        if (set.isEmpty()) {
            for (int d = 0; d < rank; d++) set.add(d);
        }
        int[] dims = set.stream().mapToInt(Integer::intValue).toArray();
        SameDiff sd = ctx.sd();
        if (dims.length == 0) {
            // A scalar: reducing over no axis leaves the value (squared/abs/... for the norm-like kinds).
            return sameType(ctx, reduceOverNothing(ctx, kind, x), x);
        }
        SDVariable in = numeric(x);
        SDVariable y = switch (kind) {
            case SUM -> sd.sum(in, keep, dims);
            case MEAN -> sd.mean(in, keep, dims);
            case MAX -> sd.max(in, keep, dims);
            case MIN -> sd.min(in, keep, dims);
            case PROD -> sd.prod(in, keep, dims);
            case L1 -> sd.norm1(in, keep, dims);
            case L2 -> sd.norm2(in, keep, dims);
            case SUM_SQUARE -> sd.squaredNorm(in, keep, dims);
            case LOG_SUM_EXP -> logSumExp(ctx, in, keep, dims);
        };
        return sameType(ctx, y, x);
    }

    /**
     * A reduction over no axis, i.e. over single elements: the value for a rank-0 input or for
     * noop_with_empty_axes. L2 is sqrt(x*x), not |x|, as in the reference (x*x may overflow).
     */
    private static SDVariable reduceOverNothing(ImportContext ctx, Kind kind, SDVariable x) {
        SameDiff sd = ctx.sd();
        return switch (kind) {
            case SUM, MEAN, MAX, MIN, PROD, LOG_SUM_EXP -> sd.identity(x);
            case L1 -> sd.math().abs(x);
            case L2 -> sd.math().sqrt(x.mul(x));
            case SUM_SQUARE -> x.mul(x);
        };
    }

    /**
     * log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the maximum, so large inputs do not
     * overflow. m is clipped to the finite range so that all-infinite slices still give -inf / +inf
     * instead of NaN (inf - inf).
     */
    private static SDVariable logSumExp(ImportContext ctx, SDVariable x, boolean keep, int[] dims) {
        SameDiff sd = ctx.sd();
        double big = finiteMax(x.dataType());
        SDVariable m = sd.math().clipByValue(sd.max(x, true, dims), -big, big);
        SDVariable s = sd.sum(sd.math().exp(x.sub(m)), keep, dims);
        SDVariable mOut = keep ? m : sd.squeeze(m, dims[0]);
        for (int i = 1; i < dims.length && !keep; i++) {
            mOut = sd.squeeze(mOut, dims[i] - i);
        }
        return sd.math().log(s).add(mOut);
    }

    private static double finiteMax(DataType type) {
        return switch (type) {
            case DOUBLE -> Double.MAX_VALUE;
            case HALF -> 65504.0;
            case BFLOAT16 -> 3.3895313892515355e38;
            default -> Float.MAX_VALUE;
        };
    }

    /**
     * Axes computed at run time. SameDiff's legacy reductions take the dimensions as an integer second
     * input, but fail on an empty one, and normalise negative axes themselves. So the input gets an extra
     * trailing dimension of size 1 and the axes are made non-negative and extended with that dimension:
     * reducing over a size-1 dimension is reducing over single elements, which gives noop_with_empty_axes
     * for empty axes (see {@link #reduceOverNothing}); without noop, empty axes are replaced by all axes.
     */
    private static SDVariable reduceDynamic(OnnxNode n, ImportContext ctx, Kind kind, SDVariable x, SDVariable axes,
                                            boolean keep, boolean noop) {
        SameDiff sd = ctx.sd();
        int rank = ctx.inputRank(n, 0);
        n.unsupportedIf(ctx.inputRank(n, 1) != 1, "axes of rank " + ctx.inputRank(n, 1) + " (ONNX wants 1-D)");
        SDVariable extra = ctx.constant(Nd4j.createFromArray((long) rank));
        // SameDiff's elementwise ops fail on empty arrays, so the extra axis is appended first.
        SDVariable a = sd.concat(0, axes.dataType() == DataType.LONG ? axes : axes.castTo(DataType.LONG), extra);
        // Negative axes count from the end of the original rank, not of the extended one.
        a = a.add(sd.lt(a, ctx.scalar(DataType.LONG, 0)).castTo(DataType.LONG).mul(rank));
        SDVariable dims;
        if (noop) {
            dims = a;
        } else {
            // All axes when the given axes are empty. SameDiff's tile rejects a zero repeat, so instead
            // [0..rank) is replaced by copies of the extra axis when axes are given (repeats are harmless).
            SDVariable empty = sd.eq(sd.sizeAt(a, 0).castTo(DataType.LONG), ctx.scalar(DataType.LONG, 1))
                    .castTo(DataType.LONG);
            long[] all = new long[rank];
            for (int d = 0; d < rank; d++) all[d] = d;
            SDVariable allAxes = ctx.constant(Nd4j.createFromArray(all)).mul(empty)
                    .add(empty.rsub(1).mul(rank));
            dims = sd.concat(0, a, allAxes);
        }
        SDVariable x1 = sd.expandDims(numeric(x), rank);
        SDVariable y = switch (kind) {
            case SUM -> sd.math().sum(x1, dims, keep);
            case MEAN -> sd.math().mean(x1, dims, keep);
            case MAX -> sd.math().reduceMax(x1, dims, keep);
            case MIN -> sd.math().reduceMin(x1, dims, keep);
            case PROD -> sd.math().prod(x1, dims, keep);
            case L1 -> sd.math().sum(sd.math().abs(x1), dims, keep);
            case L2 -> sd.math().sqrt(sd.math().squaredNorm(x1, dims, keep));
            case SUM_SQUARE -> sd.math().squaredNorm(x1, dims, keep);
            case LOG_SUM_EXP -> {
                // As logSumExp below: shift by the maximum, clipped to the finite range.
                double big = finiteMax(x.dataType());
                SDVariable m = sd.math().clipByValue(sd.math().reduceMax(x1, dims, true), -big, big);
                SDVariable s = sd.math().sum(sd.math().exp(x1.sub(m)), dims, keep);
                SDVariable mOut = keep ? m
                        : sd.math().clipByValue(sd.math().reduceMax(x1, dims, false), -big, big);
                yield sd.math().log(s).add(mOut);
            }
        };
        if (keep) {
            y = sd.squeeze(y, rank);
        }
        return sameType(ctx, y, x);
    }

    /** ReduceMax/Min take bool inputs from opset 20; SameDiff reduces them as 0/1 integers. */
    private static SDVariable numeric(SDVariable x) {
        return x.dataType() == DataType.BOOL ? x.castTo(DataType.INT) : x;
    }

    /** SameDiff's mean and norms of integer inputs are floating point; ONNX keeps the input type. */
    private static SDVariable sameType(ImportContext ctx, SDVariable y, SDVariable x) {
        return y.dataType() == x.dataType() ? y : y.castTo(x.dataType());
    }

    /**
     * ArgMax / ArgMin along one axis, int64 output. With {@code select_last_index} the index of the last
     * occurrence of the extreme value is wanted: search the reversed axis and map the index back.
     */
    private static void argExtreme(OnnxNode n, ImportContext ctx, boolean max) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        long[] shape = ctx.inputShape(n, 0);
        int axis = ImportContext.axis(n, n.getLong("axis", 0), shape.length);
        boolean keep = keepDims(n);
        long last = n.getLong("select_last_index", 0);
        n.unsupportedIf(last != 0 && last != 1, "select_last_index=" + last);
        SDVariable in = last == 1 ? sd.reverse(x, axis) : x;
        SDVariable idx = max ? sd.argmax(in, keep, axis) : sd.argmin(in, keep, axis);
        idx = idx.dataType() == DataType.LONG ? idx : idx.castTo(DataType.LONG);
        if (last == 1) {
            SDVariable size = shape[axis] >= 0 ? ctx.scalar(DataType.LONG, shape[axis])
                    : sd.sizeAt(x, axis).castTo(DataType.LONG);
            idx = size.sub(1).sub(idx);
        }
        ctx.setOutput(n, 0, idx);
    }
}
