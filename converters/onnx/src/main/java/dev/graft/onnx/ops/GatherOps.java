package dev.graft.onnx.ops;

import static dev.graft.onnx.ops.IndexOperands.ones;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.ops.IndexOperands.RuntimeInts;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Gather and GatherElements. On floating-point data both are one-hot contractions: ND4J's gather gradient is
 * wrong for repeated indices and gatherNd has none. Integer data (shape arithmetic) needs no gradient and uses
 * ND4J's gather and gatherNd.
 */
public final class GatherOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("Gather", 1, GatherOps::gather);
        r.importer("GatherElements", 11, GatherOps::gatherElements);

        r.exporter("gather", GatherOps::exportGather);
        r.exporter("onehot", GatherOps::exportOneHot);
    }

    // ---------------------------------------------------------------- export

    /** gather(x, indices, axis): the indices are the second input or follow the axis in the integer arguments. */
    private static void exportGather(SameDiffOp op, ExportContext ctx) {
        long[] a = ExportContext.intArgs(op);
        if (a.length < 1) throw ctx.error(op, "has no axis");
        String indices;
        if (ctx.inputCount(op) > 1) {
            indices = ctx.input(op, 1);
            DataType t = ctx.dataType(indices);
            if (t != DataType.INT && t != DataType.LONG) indices = ShapeOps.int64(ctx, indices);
        } else {
            indices = ctx.longs(Arrays.copyOfRange(a, 1, a.length));
        }
        ctx.node("Gather", ctx.input(op, 0), indices).attr("axis", a[0]).to(ctx.output(op, 0));
    }

    /**
     * onehot(indices, depth, axis, on, off) as ONNX OneHot with values [off, on] of the output type. ONNX
     * counts a negative index from the end where SameDiff gives all "off"; graft's importer only feeds
     * non-negative indices.
     */
    private static void exportOneHot(SameDiffOp op, ExportContext ctx) {
        long[] a = ExportContext.intArgs(op);
        double[] t = ExportContext.floatArgs(op);
        if (ctx.inputCount(op) != 1 || a.length != 2) {
            throw ctx.error(op, "only the form with axis and depth as arguments is exported (found " + ctx.inputCount(op)
                    + " inputs, arguments " + Arrays.toString(a) + ")");
        }
        String out = ctx.output(op, 0);
        double on = t.length > 0 ? t[0] : 1;
        double off = t.length > 1 ? t[1] : 0;
        String values = ctx.constant(Nd4j.createFromArray(off, on).castTo(ctx.dataType(out)));
        String depth = ctx.constant(Nd4j.scalar(DataType.LONG, a[1]));
        ctx.node("OneHot", ctx.input(op, 0), depth, values).attr("axis", a[0]).to(out);
    }

    private static void gather(OnnxNode n, ImportContext ctx) {
        SDVariable data = ctx.input(n, 0);
        long[] shape = ctx.inputShape(n, 0);
        int axis = ImportContext.axis(n, n.getLong("axis", 0), shape.length);
        SDVariable indices;
        if (ctx.isStaticInput(n, 1) && shape[axis] >= 0) {
            INDArray idx = ctx.constantInput(n, 1, "indices").castTo(DataType.LONG).dup();
            long dim = shape[axis];
            for (long i = 0; i < idx.length(); i++) {
                long v = idx.getLong(i);
                if (v < -dim || v >= dim) throw n.error("index " + v + " is out of range for axis size " + dim);
                if (v < 0) idx.putScalar(i, v + dim);
            }
            indices = ctx.constant(idx);
        } else {
            RuntimeInts ri = new RuntimeInts(ctx);
            SDVariable dim = ri.at(ri.dims(data), axis);
            indices = ri.wrapNegative(ri.lng(ctx.input(n, 1)), dim);
        }
        SameDiff sd = ctx.sd();
        long[] idxShape = ctx.inputShape(n, 1);
        SDVariable y;
        if (data.dataType().isFPType() && shape[axis] > 0) {
            y = gatherByOneHot(sd, data, indices, axis, shape.length, shape[axis], idxShape.length);
        } else if (idxShape.length == 0) {
            // Scalar index: gather one slice and drop the axis.
            y = sd.squeeze(sd.gather(data, sd.reshape(indices, 1), axis), axis);
        } else if (shape.length == 1 && idxShape.length > 1) {
            // libnd4j's gather crashes on 1-D data with multi-dimensional indices: gather flat, then reshape.
            SDVariable target = Arrays.stream(idxShape).allMatch(v -> v >= 0)
                    ? ctx.constant(Nd4j.createFromArray(idxShape)) : sd.shape(indices).castTo(DataType.LONG);
            y = sd.reshape(sd.gather(data, sd.reshape(indices, -1), 0), target);
        } else {
            y = sd.gather(data, indices, axis);
        }
        ctx.setOutput(n, 0, y);
    }

    /**
     * Gather of floating-point data as a one-hot contraction, {@code onehot(indices) x data}: libnd4j's gather
     * gradient is wrong (repeated indices overwrite instead of adding; along an axis above 0 a second gather
     * breaks gradient construction), and a lookup into weights (embeddings) must train. The forward values
     * are exact: each output adds one data element and zeros (an inf or NaN elsewhere on the axis would
     * leak into the row, which ONNX exporters do not produce for lookups).
     */
    public static SDVariable gatherByOneHot(SameDiff sd, SDVariable data, SDVariable indices, int axis, int rank,
                                     long axisSize, int indexRank) {
        DataType type = data.dataType() == DataType.HALF || data.dataType() == DataType.BFLOAT16 ? DataType.FLOAT : data.dataType();
        SDVariable d = data.dataType() == type ? data : data.castTo(type);
        SDVariable dataShape = sd.shape(d).castTo(DataType.LONG);
        int[] perm = new int[rank];
        perm[0] = axis;
        for (int i = 0, k = 1; i < rank; i++) if (i != axis) perm[k++] = i;
        SDVariable rows = sd.reshape(axis == 0 ? d : sd.permute(d, perm), axisSize, -1);
        SDVariable hot = sd.oneHot(sd.reshape(indices, -1), (int) axisSize, -1, 1.0, 0.0, type);
        SDVariable flat = sd.mmul(hot, rows);
        List<SDVariable> target = new ArrayList<>();
        if (indexRank > 0) target.add(sd.shape(indices).castTo(DataType.LONG));
        if (axis > 0) target.add(sd.slice(dataShape, new int[]{0}, axis));
        if (axis < rank - 1) target.add(sd.slice(dataShape, new int[]{axis + 1}, rank - axis - 1));
        SDVariable y = target.isEmpty() ? sd.reshape(flat, new long[0])
                : sd.reshape(flat, target.size() == 1 ? target.get(0) : sd.concat(0, target.toArray(new SDVariable[0])));
        if (axis > 0 && indexRank > 0) {
            // [indices..., before..., after...] -> [before..., indices..., after...]
            int outRank = indexRank + rank - 1;
            int[] back = new int[outRank];
            int k = 0;
            for (int i = 0; i < axis; i++) back[k++] = indexRank + i;
            for (int i = 0; i < indexRank; i++) back[k++] = i;
            for (int i = indexRank + axis; i < outRank; i++) back[k++] = i;
            y = sd.permute(y, back);
        }
        return data.dataType() == type ? y : y.castTo(data.dataType());
    }

    /**
     * GatherElements as gatherNd: the coordinate of every output element is its own position, with the
     * {@code axis} coordinate replaced by the index value.
     */
    private static void gatherElements(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        RuntimeInts ri = new RuntimeInts(ctx);
        SDVariable data = ctx.input(n, 0);
        SDVariable indices = ri.lng(ctx.input(n, 1));
        int rank = ctx.inputRank(n, 0);
        if (ctx.inputRank(n, 1) != rank) throw n.error("indices must have the same rank as data");
        int axis = ImportContext.axis(n, n.getLong("axis", 0), rank);
        long axisSize = ctx.inputShape(n, 0)[axis];
        if (data.dataType().isFPType() && axisSize > 0) {
            SDVariable wrapped = ri.wrapNegative(indices, ri.c(axisSize));
            ctx.setOutput(n, 0, gatherElementsByOneHot(sd, ri, data, wrapped, axis, rank, axisSize));
            return;
        }
        SDVariable idxDims = ri.dims(indices);
        SDVariable zeros = sd.zerosLike(indices);
        SDVariable[] coords = new SDVariable[rank];
        for (int d = 0; d < rank; d++) {
            if (d == axis) {
                coords[d] = ri.wrapNegative(indices, ri.at(ri.dims(data), axis));
            } else {
                long[] bshape = ones(rank);
                bshape[d] = -1;
                SDVariable pos = sd.range(ri.c(0), ri.at(idxDims, d), ri.c(1), DataType.LONG);
                coords[d] = sd.reshape(pos, bshape).add(zeros);
            }
        }
        ctx.setOutput(n, 0, sd.gatherNd(data, sd.stack(rank, coords)));
    }

    /**
     * GatherElements of floating-point data as sum_k onehot(indices)[.., k] * data[.., k at axis, ..], so
     * that it has a gradient (gatherNd has none in ND4J): data is cut to the indices' extent on every other
     * axis, the gathered axis moved last and broadcast over the indices' own extent there.
     */
    private static SDVariable gatherElementsByOneHot(SameDiff sd, RuntimeInts ri, SDVariable data, SDVariable indices,
                                                     int axis, int rank, long axisSize) {
        DataType type = data.dataType() == DataType.HALF || data.dataType() == DataType.BFLOAT16 ? DataType.FLOAT : data.dataType();
        SDVariable d = data.dataType() == type ? data : data.castTo(type);
        // Extent of the cut: the indices' dims, but all of the gathered axis.
        long[] onlyAxis = new long[rank];
        onlyAxis[axis] = 1;
        SDVariable keep = ri.vec(onlyAxis);
        SDVariable extent = ri.dims(indices).mul(keep.rsub(1L)).add(ri.dims(d).mul(keep));
        SDVariable cut = sd.slice(d, ri.vec(new long[rank]), extent);
        int[] perm = new int[rank];
        for (int i = 0, k = 0; i < rank; i++) if (i != axis) perm[k++] = i;
        perm[rank - 1] = axis;
        SDVariable moved = sd.expandDims(sd.permute(cut, perm), axis);
        SDVariable hot = sd.oneHot(indices, (int) axisSize, -1, 1.0, 0.0, type);
        SDVariable y = hot.mul(moved).sum(rank);
        return data.dataType() == type ? y : y.castTo(data.dataType());
    }
}
