package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.OnnxTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.PadMode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.custom.DistributionUniform;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Ops that select, repeat or rearrange elements: Slice, Gather, GatherElements, Split, Expand, Tile, Pad,
 * ConstantOfShape, Range, DepthToSpace, SpaceToDepth, Einsum.
 *
 * <p>Index-like inputs (slice bounds, pads, repeats, target shapes) are often computed at run time in
 * exported models (from {@code Shape}), so each op has a static path, used when those inputs are import-time
 * constants and the shapes involved are known, and a run-time path that computes the same indices in the
 * graph; dynamic dimensions are read from {@code shape(x)} at run time, never from the import-time probe.
 *
 * <p>Fine-tuning needs gradients, so slicing, splitting and padding are built from strided slices, reverses,
 * tiles, concats and SameDiff's constant pad, whose gradients are right. Two things are not: ND4J
 * 1.0.0-M2.1's gather backprop overwrites instead of adding for repeated indices (and fails along an axis
 * other than 0 when a graph holds two gathers), and gatherNd has no gradient. Gather and GatherElements use
 * them, as do the fallbacks for slice steps or axes and pads computed at run time.
 */
public final class TensorOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        // Slice-1: starts/ends/axes are attributes; Slice-10: inputs, with steps.
        r.importer("Slice", 1, (n, ctx) -> slice(n, ctx, Bounds.of(n.getLongs("starts")), Bounds.of(n.getLongs("ends")),
                Bounds.of(n.getLongs("axes")), Bounds.of((long[]) null)));
        r.importer("Slice", 10, (n, ctx) -> slice(n, ctx, Bounds.input(n, ctx, 1), Bounds.input(n, ctx, 2),
                Bounds.input(n, ctx, 3), Bounds.input(n, ctx, 4)));
        r.importer("Gather", 1, TensorOps::gather);
        r.importer("GatherElements", 11, TensorOps::gatherElements);
        // Split-1 and -2: sizes as attribute (-1 also accepted a second input); -13: input; -18: num_outputs.
        r.importer("Split", 1, (n, ctx) -> split(n, ctx, n.hasInput(1) ? Bounds.input(n, ctx, 1) : Bounds.of(n.getLongs("split")), false));
        r.importer("Split", 2, (n, ctx) -> split(n, ctx, Bounds.of(n.getLongs("split")), false));
        r.importer("Split", 13, (n, ctx) -> split(n, ctx, Bounds.input(n, ctx, 1), false));
        r.importer("Split", 18, (n, ctx) -> split(n, ctx, Bounds.input(n, ctx, 1), true));
        r.importer("Expand", 8, TensorOps::expand);
        r.importer("Tile", 6, TensorOps::tile);
        // Pad-1 names its attribute "paddings", Pad-2 "pads"; from 11 pads and value are inputs, 18 adds axes.
        r.importer("Pad", 1, (n, ctx) -> pad(n, ctx, Bounds.of(n.getLongs("paddings")), null, Bounds.of((long[]) null)));
        r.importer("Pad", 2, (n, ctx) -> pad(n, ctx, Bounds.of(n.getLongs("pads")), null, Bounds.of((long[]) null)));
        r.importer("Pad", 11, (n, ctx) -> pad(n, ctx, Bounds.input(n, ctx, 1), ctx.optionalInput(n, 2), Bounds.of((long[]) null)));
        r.importer("Pad", 18, (n, ctx) -> pad(n, ctx, Bounds.input(n, ctx, 1), ctx.optionalInput(n, 2), Bounds.input(n, ctx, 3)));
        r.importer("ConstantOfShape", 9, TensorOps::constantOfShape);
        r.importer("Range", 11, TensorOps::range);
        r.importer("DepthToSpace", 1, (n, ctx) -> depthToSpace(n, ctx, "DCR"));
        r.importer("DepthToSpace", 11, (n, ctx) -> depthToSpace(n, ctx, n.getString("mode", "DCR")));
        r.importer("SpaceToDepth", 1, TensorOps::spaceToDepth);
        r.importer("Einsum", 12, TensorOps::einsum);
    }

    // ---------------------------------------------------------------- operands

    /**
     * An integer vector operand (starts, pads, split sizes...): known at import time ({@code values}), or
     * computed at run time ({@code var}, with its static length), or absent (both null).
     */
    record Bounds(long[] values, SDVariable var, int length) {

        static Bounds of(long[] values) {
            return new Bounds(values, null, values == null ? 0 : values.length);
        }

        static Bounds input(OnnxNode n, ImportContext ctx, int i) {
            if (!n.hasInput(i)) {
                return of(null);
            }
            if (ctx.isStaticInput(n, i)) {
                return of(ctx.optionalLongs(n, i, "input " + i));
            }
            long[] s = ctx.inputShape(n, i);
            if (s.length != 1 || s[0] < 0) {
                throw n.error("input " + i + " must be a 1-D tensor of known length, found shape " + Arrays.toString(s));
            }
            return new Bounds(null, ctx.input(n, i).castTo(DataType.LONG), (int) s[0]);
        }

        boolean absent() {
            return values == null && var == null;
        }

        boolean isStatic() {
            return values != null;
        }

        /** Entry i as a run-time scalar. */
        SDVariable at(RuntimeInts ri, int i) {
            return values != null ? ri.c(values[i]) : ri.at(var, i);
        }

        /** The whole vector as a graph value. */
        SDVariable asVar(RuntimeInts ri) {
            return values != null ? ri.vec(values) : var;
        }
    }

    // ---------------------------------------------------------------- Slice

    private static void slice(OnnxNode n, ImportContext ctx, Bounds starts, Bounds ends, Bounds axes, Bounds steps) {
        SDVariable x = ctx.input(n, 0);
        long[] shape = ctx.inputShape(n, 0);
        int rank = shape.length;
        if (starts.absent() || ends.absent()) throw n.error("starts and ends are required");
        int k = starts.length();
        if (ends.length() != k || (!axes.absent() && axes.length() != k) || (!steps.absent() && steps.length() != k)) {
            throw n.error("starts, ends, axes and steps must have the same length");
        }
        if (axes.absent()) axes = Bounds.of(RuntimeInts.range(k));
        if (steps.isStatic()) {
            for (long s : steps.values()) if (s == 0) throw n.error("slice step 0 is invalid");
        }
        if (starts.isStatic() && ends.isStatic() && axes.isStatic() && (steps.absent() || steps.isStatic())) {
            SDVariable y = staticSlice(n, ctx, x, shape, starts.values(), ends.values(), axes.values(),
                    steps.absent() ? null : steps.values());
            if (y != null) {
                ctx.setOutput(n, 0, y);
                return;
            }
        }
        ctx.setOutput(n, 0, runtimeSlice(n, ctx, x, rank, starts, ends, axes, steps));
    }

    /** Strided slice with bounds clamped at import time; null when a needed dimension is dynamic. */
    private static SDVariable staticSlice(OnnxNode n, ImportContext ctx, SDVariable x, long[] shape, long[] starts,
                                          long[] ends, long[] axes, long[] steps) {
        int rank = shape.length;
        long[] begin = new long[rank];
        long[] end = new long[rank];
        long[] stride = new long[rank];
        Arrays.fill(stride, 1);
        int beginMask = 0;
        int endMask = 0;
        boolean[] seen = new boolean[rank];
        List<Integer> reversed = new ArrayList<>();
        for (int d = 0; d < rank; d++) {
            beginMask |= 1 << d;
            endMask |= 1 << d;
        }
        for (int i = 0; i < starts.length; i++) {
            int d = ImportContext.axis(n, axes[i], rank);
            if (seen[d]) throw n.error("axis " + d + " is repeated");
            seen[d] = true;
            long step = steps == null ? 1 : steps[i];
            long dim = shape[d];
            if (dim < 0) return null;
            long s = starts[i] < 0 ? starts[i] + dim : starts[i];
            long e = ends[i] < 0 ? ends[i] + dim : ends[i];
            if (step > 0) {
                s = Math.max(0, Math.min(dim, s));
                e = Math.max(0, Math.min(dim, e));
            } else {
                s = Math.max(0, Math.min(dim - 1, s));
                e = Math.max(-1, Math.min(dim - 1, e));
            }
            boolean empty = step > 0 ? s >= e : s <= e;
            if (empty) {
                return null; // the run-time path handles empty ranges
            }
            if (step < 0) {
                // libnd4j's strided slice fails on negative strides: slice the reversed axis instead.
                reversed.add(d);
                s = dim - 1 - s;
                e = dim - 1 - e;
                step = -step;
            }
            begin[d] = s;
            end[d] = e;
            stride[d] = step;
            beginMask &= ~(1 << d);
            endMask &= ~(1 << d);
        }
        SDVariable y = x;
        for (int d : reversed) y = ctx.sd().reverse(y, d);
        return ctx.sd().stridedSlice(y, begin, end, stride, beginMask, endMask, 0, 0, 0);
    }

    /** Per sliced axis: gather over range(start, end, step), with ONNX clamping computed in the graph. */
    private static SDVariable runtimeSlice(OnnxNode n, ImportContext ctx, SDVariable x, int rank, Bounds starts,
                                           Bounds ends, Bounds axes, Bounds steps) {
        SameDiff sd = ctx.sd();
        RuntimeInts ri = new RuntimeInts(ctx);
        SDVariable dims = ri.dims(x);
        SDVariable y = x;
        int k = starts.length();
        if (axes.isStatic() && (steps.absent() || steps.isStatic())) {
            return runtimeStridedSlice(n, ctx, x, rank, starts, ends, axes.values(), steps.absent() ? ones(k) : steps.values());
        }
        if (axes.isStatic()) {
            boolean[] seen = new boolean[rank];
            for (int i = 0; i < k; i++) {
                int d = ImportContext.axis(n, axes.values()[i], rank);
                if (seen[d]) throw n.error("axis " + d + " is repeated");
                seen[d] = true;
                SDVariable step = steps.absent() ? ri.c(1) : steps.at(ri, i);
                y = sliceAxis(ri, y, d, ri.at(dims, d), starts.at(ri, i), ends.at(ri, i), step);
            }
            return y;
        }
        // Axes known only at run time: every axis is sliced, with (0, dim, 1) where it is not listed.
        SDVariable a = ri.wrapNegative(axes.asVar(ri), ri.c(rank));
        SDVariable st = starts.asVar(ri);
        SDVariable en = ends.asVar(ri);
        SDVariable sp = steps.absent() ? ri.vec(ones(k)) : steps.asVar(ri);
        for (int d = 0; d < rank; d++) {
            SDVariable hit = sd.eq(a, ri.c(d)).castTo(DataType.LONG);
            SDVariable miss = ri.c(1).sub(ri.sumAll(hit, k));
            SDVariable dim = ri.at(dims, d);
            SDVariable s = ri.sumAll(hit.mul(st), k);
            SDVariable e = ri.sumAll(hit.mul(en), k).add(miss.mul(dim));
            SDVariable step = ri.sumAll(hit.mul(sp), k).add(miss);
            y = sliceAxis(ri, y, d, dim, s, e, step);
        }
        return y;
    }

    /**
     * Slice with bounds known only at run time but axes and steps fixed: the ONNX clamping is computed in
     * the graph and fed to a strided slice (which SameDiff differentiates). An axis with a negative step
     * is reversed first and sliced with the mirrored bounds and a positive step, because a strided slice
     * cannot express "down to and including index 0" with a computed end.
     */
    private static SDVariable runtimeStridedSlice(OnnxNode n, ImportContext ctx, SDVariable x, int rank, Bounds starts,
                                                  Bounds ends, long[] axes, long[] steps) {
        SameDiff sd = ctx.sd();
        RuntimeInts ri = new RuntimeInts(ctx);
        long[] shape = ctx.inputShape(n, 0);
        SDVariable dims = null;
        SDVariable[] begin = new SDVariable[rank];
        SDVariable[] end = new SDVariable[rank];
        long[] stride = ones(rank);
        int beginMask = 0;
        int endMask = 0;
        for (int d = 0; d < rank; d++) {
            beginMask |= 1 << d;
            endMask |= 1 << d;
        }
        SDVariable y = x;
        for (int i = 0; i < axes.length; i++) {
            int d = ImportContext.axis(n, axes[i], rank);
            if (begin[d] != null) throw n.error("axis " + d + " is repeated");
            long step = steps[i];
            if (step == 0) throw n.error("slice step 0 is invalid");
            SDVariable dim;
            if (shape[d] >= 0) {
                dim = ri.c(shape[d]);
            } else {
                if (dims == null) dims = ri.dims(x);
                dim = ri.at(dims, d);
            }
            SDVariable s = ri.wrapNegative(starts.at(ri, i), dim);
            SDVariable e = ri.wrapNegative(ends.at(ri, i), dim);
            if (step > 0) {
                s = ri.clamp(s, ri.c(0), dim);
                e = ri.clamp(e, ri.c(0), dim);
            } else {
                // start in [0, dim-1], end in [-1, dim-1]; mirrored: i -> dim-1-i on the reversed axis.
                SDVariable last = dim.sub(ri.c(1));
                s = last.sub(ri.clamp(s, ri.c(0), last));
                e = last.sub(ri.clamp(e, ri.c(-1), last));
                y = sd.reverse(y, d);
                step = -step;
            }
            // An empty range must stay empty: end no smaller than begin.
            begin[d] = sd.reshape(s, 1);
            end[d] = sd.reshape(sd.math().max(e, s), 1);
            stride[d] = step;
            beginMask &= ~(1 << d);
            endMask &= ~(1 << d);
        }
        for (int d = 0; d < rank; d++) {
            if (begin[d] == null) {
                begin[d] = ri.vec(0);
                end[d] = ri.vec(0);
            }
        }
        SDVariable out = sd.stridedSlice(y, sd.concat(0, begin), sd.concat(0, end), ri.vec(stride), beginMask, endMask, 0, 0, 0);
        if (rank == 1) {
            // An empty strided slice of a vector comes out with rank 0: restore the length, (end-begin)/step rounded up.
            SDVariable len = end[0].sub(begin[0]).add(ri.c(stride[0] - 1)).div(ri.c(stride[0]));
            out = sd.reshape(out, len);
        }
        return out;
    }

    private static SDVariable sliceAxis(RuntimeInts ri, SDVariable x, int axis, SDVariable dim, SDVariable start,
                                        SDVariable end, SDVariable step) {
        SDVariable neg = ri.isNeg(step);
        SDVariable s = ri.wrapNegative(start, dim);
        SDVariable e = ri.wrapNegative(end, dim);
        // step > 0: clamp both to [0, dim]; step < 0: start to [0, dim-1], end to [-1, dim-1].
        s = ri.clamp(s, ri.c(0), dim.sub(neg));
        e = ri.clamp(e, neg.neg(), dim.sub(neg));
        return ri.sd().gather(x, ri.range(s, e, step), axis);
    }

    static long[] ones(int k) {
        long[] a = new long[k];
        Arrays.fill(a, 1);
        return a;
    }

    // ---------------------------------------------------------------- Gather

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
    static SDVariable gatherByOneHot(SameDiff sd, SDVariable data, SDVariable indices, int axis, int rank,
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

    // ---------------------------------------------------------------- Split

    private static void split(OnnxNode n, ImportContext ctx, Bounds sizes, boolean numOutputsAttr) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        long[] shape = ctx.inputShape(n, 0);
        int axis = ImportContext.axis(n, n.getLong("axis", 0), shape.length);
        int outputs = n.outputCount();
        long dim = shape[axis];
        SDVariable[] parts;
        if (Arrays.stream(shape).anyMatch(v -> v == 0)) {
            splitEmpty(n, ctx, x, axis, sizes, outputs);
            return;
        }
        if (!sizes.absent()) {
            n.unsupportedIf(numOutputsAttr && n.has("num_outputs"), "Split with both split sizes and num_outputs");
            if (sizes.length() != outputs) throw n.error("split has " + sizes.length() + " entries for " + outputs + " outputs");
            if (sizes.isStatic() && dim >= 0 && Arrays.stream(sizes.values()).sum() != dim) {
                throw n.error("split sizes " + Arrays.toString(sizes.values()) + " do not add up to " + dim);
            }
            parts = outputs == 1 ? new SDVariable[]{sd.identity(x)} : splitSizes(ctx, x, axis, sizes, shape.length);
        } else {
            int count = numOutputsAttr ? n.requireInt("num_outputs") : outputs;
            if (count != outputs) throw n.error("num_outputs is " + count + " but the node has " + outputs + " outputs");
            if (outputs == 1) {
                parts = new SDVariable[]{sd.identity(x)};
            } else if (dim >= 0 && dim % outputs == 0) {
                parts = sd.split(x, outputs, axis);
            } else if (!numOutputsAttr) {
                if (dim >= 0) throw n.error("axis size " + dim + " does not split into " + outputs + " equal parts");
                parts = sd.split(x, outputs, axis); // checked by the kernel at run time
            } else {
                // Split-18: chunks of ceil(dim / n), the last one smaller.
                RuntimeInts ri = new RuntimeInts(ctx);
                SDVariable d = ri.at(ri.dims(x), axis);
                SDVariable chunk = d.add(ri.c(outputs - 1)).div(ri.c(outputs));
                SDVariable last = d.sub(chunk.mul(ri.c(outputs - 1)));
                List<SDVariable> s = new ArrayList<>();
                for (int i = 0; i < outputs - 1; i++) s.add(sd.reshape(chunk, 1));
                s.add(sd.reshape(last, 1));
                Bounds b = new Bounds(null, sd.concat(0, s.toArray(new SDVariable[0])), outputs);
                parts = splitSizes(ctx, x, axis, b, shape.length);
            }
        }
        for (int i = 0; i < outputs; i++) {
            ctx.setOutput(n, i, parts[i]);
        }
    }

    /**
     * Splits into parts of the given sizes with one strided slice per part: SameDiff has no gradient for
     * split_v, and fine-tuning must flow through Split.
     */
    private static SDVariable[] splitSizes(ImportContext ctx, SDVariable x, int axis, Bounds sizes, int rank) {
        SameDiff sd = ctx.sd();
        int count = sizes.length();
        int otherMask = ((1 << rank) - 1) & ~(1 << axis);
        SDVariable[] parts = new SDVariable[count];
        long[] strides = ones(rank);
        if (sizes.isStatic()) {
            long offset = 0;
            for (int i = 0; i < count; i++) {
                long[] begin = new long[rank];
                long[] end = new long[rank];
                begin[axis] = offset;
                end[axis] = offset + sizes.values()[i];
                parts[i] = sd.stridedSlice(x, begin, end, strides, otherMask, otherMask, 0, 0, 0);
                offset += sizes.values()[i];
            }
            return parts;
        }
        RuntimeInts ri = new RuntimeInts(ctx);
        SDVariable starts = ri.exclusiveCumsum(sizes.var());
        long[] onAxis = new long[rank];
        onAxis[axis] = 1;
        SDVariable unit = ri.vec(onAxis);
        for (int i = 0; i < count; i++) {
            SDVariable b = ri.at(starts, i);
            SDVariable e = b.add(sizes.at(ri, i));
            parts[i] = sd.stridedSlice(x, unit.mul(b), unit.mul(e), ri.vec(strides), otherMask, otherMask, 0, 0, 0);
        }
        return parts;
    }

    /** libnd4j's split kernels reject empty inputs; the outputs are empty too, of the computed shapes. */
    private static void splitEmpty(OnnxNode n, ImportContext ctx, SDVariable x, int axis, Bounds sizes, int outputs) {
        RuntimeInts ri = new RuntimeInts(ctx);
        int rank = ctx.inputRank(n, 0);
        long[] onAxis = new long[rank];
        onAxis[axis] = 1;
        SDVariable dims = ri.dims(x);
        SDVariable others = dims.mul(ri.vec(onAxis).rsub(1));
        for (int i = 0; i < outputs; i++) {
            // Without sizes, equal parts of an empty axis are empty (a zero-size other axis keeps dim / n).
            SDVariable size = sizes.absent() ? ri.at(dims, axis).div(ri.c(outputs)) : sizes.at(ri, i);
            SDVariable shape = others.add(ri.vec(onAxis).mul(size));
            ctx.setOutput(n, i, ctx.sd().fill(shape, x.dataType(), 0));
        }
    }

    // ---------------------------------------------------------------- Expand, Tile, ConstantOfShape, Range

    /** Expand = broadcasting against a zero tensor of the requested shape (differentiable, any rank). */
    private static void expand(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        if (ctx.isStaticInput(n, 1)) {
            long[] target = ctx.constantInput(n, 1, "shape").castTo(DataType.LONG).data().asLong();
            long[] in = ctx.inputShape(n, 0);
            long[] out = new long[Math.max(target.length, in.length)];
            for (int i = 0; i < out.length; i++) {
                long a = i < out.length - target.length ? 1 : target[i - (out.length - target.length)];
                long b = i < out.length - in.length ? 1 : in[i - (out.length - in.length)];
                out[i] = Math.max(a, b);
            }
            ImportContext.checkCreatedSize(n, out, "the expanded tensor");
        }
        SDVariable shape = ctx.input(n, 1).castTo(DataType.LONG);
        DataType t = x.dataType();
        DataType work = t == DataType.BOOL ? DataType.INT : t;
        SDVariable zeros = sd.fill(shape, work, 0);
        SDVariable y = (t == DataType.BOOL ? x.castTo(work) : x).add(zeros);
        ctx.setOutput(n, 0, t == DataType.BOOL ? y.castTo(DataType.BOOL) : y);
    }

    private static void tile(OnnxNode n, ImportContext ctx) {
        SDVariable x = ctx.input(n, 0);
        if (ctx.isStaticInput(n, 1)) {
            long[] reps = ctx.constantInput(n, 1, "repeats").castTo(DataType.LONG).data().asLong();
            if (reps.length != ctx.inputRank(n, 0)) throw n.error("repeats has " + reps.length + " entries for rank " + ctx.inputRank(n, 0));
            long[] out = ctx.inputShape(n, 0);
            for (int i = 0; i < out.length; i++) out[i] = Math.max(out[i], 1) * reps[i];
            ImportContext.checkCreatedSize(n, out, "the tiled tensor");
            ctx.setOutput(n, 0, ctx.sd().tile(x, Arrays.stream(reps).mapToInt(Math::toIntExact).toArray()));
        } else {
            ctx.setOutput(n, 0, ctx.sd().tile(x, ctx.input(n, 1).castTo(DataType.LONG)));
        }
    }

    private static void constantOfShape(OnnxNode n, ImportContext ctx) {
        DataType type = DataType.FLOAT;
        double value = 0;
        if (n.has("value")) {
            INDArray v = OnnxTensors.toArray(n.getTensor("value"), null, n.describe() + " attribute 'value'");
            if (v.length() != 1) throw n.error("attribute 'value' must hold one element, found " + v.length());
            type = v.dataType();
            value = v.getDouble(0);
        }
        if (ctx.isStaticInput(n, 0)) {
            ImportContext.checkCreatedSize(n, ctx.constantInput(n, 0, "shape").castTo(DataType.LONG).data().asLong(),
                    "the filled tensor");
        }
        SDVariable shape = ctx.input(n, 0).castTo(DataType.LONG);
        ctx.setOutput(n, 0, ctx.sd().fill(shape, type, value));
    }

    /**
     * Range as start + delta * [0, 1, .., count-1] with count = max(0, ceil((limit - start) / delta)), as
     * ONNX defines it; libnd4j's own range kernel miscounts some negative-delta integer ranges.
     */
    private static void range(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        if (ctx.isStaticInput(n, 0) && ctx.isStaticInput(n, 1) && ctx.isStaticInput(n, 2)) {
            double s0 = ctx.constantInput(n, 0, "start").getDouble(0);
            double l0 = ctx.constantInput(n, 1, "limit").getDouble(0);
            double d0 = ctx.constantInput(n, 2, "delta").getDouble(0);
            if (d0 == 0) throw n.error("delta is 0");
            double count = Math.max(0, Math.ceil((l0 - s0) / d0));
            ImportContext.checkCreatedSize(n, new long[]{count > Long.MAX_VALUE / 2 ? Long.MAX_VALUE / 2 : (long) count},
                    "the range");
        }
        SDVariable start = ctx.input(n, 0);
        DataType t = start.dataType();
        SDVariable limit = ctx.input(n, 1).castTo(t);
        SDVariable delta = ctx.input(n, 2).castTo(t);
        SDVariable count = sd.math().ceil(limit.castTo(DataType.DOUBLE).sub(start.castTo(DataType.DOUBLE))
                .div(delta.castTo(DataType.DOUBLE)));
        count = sd.math().max(count, ctx.scalar(DataType.DOUBLE, 0)).castTo(DataType.LONG);
        RuntimeInts ri = new RuntimeInts(ctx);
        SDVariable steps = sd.range(ri.c(0), sd.reshape(count, new long[0]), ri.c(1), DataType.LONG).castTo(t);
        ctx.setOutput(n, 0, sd.reshape(start, new long[0]).add(steps.mul(sd.reshape(delta, new long[0]))));
    }

    // ---------------------------------------------------------------- Pad

    private static void pad(OnnxNode n, ImportContext ctx, Bounds pads, SDVariable valueInput, Bounds axes) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        int rank = ctx.inputRank(n, 0);
        String mode = n.getString("mode", "constant");
        n.unsupportedIf(!mode.equals("constant") && !mode.equals("reflect") && !mode.equals("edge"), "Pad mode '" + mode + "'");
        if (pads.absent()) throw n.error("pads are required");
        long[] axisList;
        if (axes.absent()) {
            axisList = RuntimeInts.range(rank);
        } else {
            if (!axes.isStatic()) throw n.error("axes computed at run time are not supported; graft needs them constant");
            axisList = Arrays.stream(axes.values()).map(a -> ImportContext.axis(n, a, rank)).toArray();
        }
        int k = axisList.length;
        if (pads.length() != 2 * k) throw n.error("pads has " + pads.length() + " entries, expected " + 2 * k);

        // Constant value: attribute (Pad-1/2), optional input (11+), default 0.
        Double staticValue = null;
        SDVariable value = null;
        if (valueInput == null) {
            staticValue = (double) n.getFloat("value", 0f);
        } else if (ctx.isStaticInput(n, 2)) {
            INDArray v = ctx.constantInput(n, 2, "constant_value");
            staticValue = v.length() == 0 ? 0.0 : v.getDouble(0);
        } else {
            value = sd.reshape(valueInput.castTo(x.dataType()), new long[0]);
        }

        if (pads.isStatic()) {
            ctx.setOutput(n, 0, staticPad(ctx, x, rank, axisList, pads.values(), mode, staticValue, value));
            return;
        }
        // General path: per padded axis, gather over positions -begin .. dim+end mapped into the input.
        RuntimeInts ri = new RuntimeInts(ctx);
        SDVariable dims = ri.dims(x);
        long[] staticDims = ctx.inputShape(n, 0);
        SDVariable y = x;
        for (int i = 0; i < k; i++) {
            if (pads.isStatic() && pads.values()[i] == 0 && pads.values()[i + k] == 0) continue;
            int d = (int) axisList[i];
            SDVariable dim = ri.at(dims, d);
            SDVariable idx = ri.range(pads.at(ri, i).neg(), dim.add(pads.at(ri, i + k)), ri.c(1));
            SDVariable last = dim.sub(ri.c(1));
            SDVariable src;
            switch (mode) {
                case "edge" -> src = ri.clamp(idx, ri.c(0), last);
                case "reflect" -> {
                    SDVariable j = sd.math().abs(idx);
                    SDVariable over = sd.gt(j, last).castTo(DataType.LONG);
                    src = j.add(over.mul(last.mul(ri.c(2)).sub(j.mul(ri.c(2)))));
                }
                default -> src = ri.clamp(idx, ri.c(0), last);
            }
            SDVariable g = y.dataType().isFPType() && staticDims[d] > 0
                    ? gatherByOneHot(sd, y, src, d, rank, staticDims[d], 1) : sd.gather(y, src, d);
            if (mode.equals("constant")) {
                SDVariable inside = sd.eq(src, idx).castTo(g.dataType() == DataType.BOOL ? DataType.INT : g.dataType());
                long[] bshape = ones(rank);
                bshape[d] = -1;
                inside = sd.reshape(inside, bshape);
                SDVariable fill = value != null ? value : ctx.scalar(x.dataType(), staticValue);
                // inside * g + (1 - inside) * value, so the gradient flows to the copied elements only.
                g = g.mul(inside).add(fill.mul(inside.rsub(1.0)));
            }
            y = g;
        }
        ctx.setOutput(n, 0, y == x ? sd.identity(x) : y);
    }

    /**
     * Pad with pads known at import time, built from differentiable pieces (dims may be dynamic): negative
     * pads crop with a strided slice; constant mode uses SameDiff's pad; reflect and edge concatenate
     * reversed or repeated border slices (SameDiff's own reflect pad has no correct gradient).
     */
    private static SDVariable staticPad(ImportContext ctx, SDVariable x, int rank, long[] axisList, long[] p,
                                        String mode, Double staticValue, SDVariable value) {
        SameDiff sd = ctx.sd();
        int k = axisList.length;
        SDVariable y = x;
        long[][] grow = new long[rank][2];
        boolean anyGrow = false;
        for (int i = 0; i < k; i++) {
            int d = (int) axisList[i];
            long b = p[i];
            long e = p[i + k];
            if (b < 0 || e < 0) {
                // Crop: keep [max(0,-b), dim - max(0,-e)).
                y = axisSlice(sd, y, d, rank, Math.max(0, -b), e < 0 ? e : null);
            }
            grow[d][0] = Math.max(0, b);
            grow[d][1] = Math.max(0, e);
            anyGrow |= b > 0 || e > 0;
        }
        if (!anyGrow) {
            return y == x ? sd.identity(x) : y;
        }
        if (mode.equals("constant")) {
            SDVariable padVar = ctx.constant(Nd4j.createFromArray(grow).castTo(DataType.INT));
            if (value == null) {
                return sd.nn().pad(y, padVar, PadMode.CONSTANT, staticValue);
            }
            // Run-time value: zero padding plus value * (1 where padded).
            SDVariable inside = sd.nn().pad(sd.onesLike(y), padVar, PadMode.CONSTANT, 0);
            return sd.nn().pad(y, padVar, PadMode.CONSTANT, 0).add(value.mul(inside.rsub(1.0)));
        }
        for (int d = 0; d < rank; d++) {
            long b = grow[d][0];
            long e = grow[d][1];
            if (b == 0 && e == 0) continue;
            List<SDVariable> pieces = new ArrayList<>();
            if (mode.equals("reflect")) {
                if (b > 0) pieces.add(sd.reverse(axisSlice(sd, y, d, rank, 1, b + 1), d));
                pieces.add(y);
                if (e > 0) pieces.add(sd.reverse(axisSlice(sd, y, d, rank, -(e + 1), -1L), d));
            } else { // edge
                int[] reps = new int[rank];
                Arrays.fill(reps, 1);
                if (b > 0) {
                    reps[d] = (int) b;
                    pieces.add(sd.tile(axisSlice(sd, y, d, rank, 0, 1L), reps));
                }
                pieces.add(y);
                if (e > 0) {
                    reps[d] = (int) e;
                    pieces.add(sd.tile(axisSlice(sd, y, d, rank, -1, null), reps));
                }
            }
            y = sd.concat(d, pieces.toArray(new SDVariable[0]));
        }
        return y;
    }

    /** x[begin:end] along one axis (Python index semantics; end null = to the end), all of the others. */
    private static SDVariable axisSlice(SameDiff sd, SDVariable x, int axis, int rank, long begin, Long end) {
        long[] b = new long[rank];
        long[] e = new long[rank];
        b[axis] = begin;
        int mask = ((1 << rank) - 1) & ~(1 << axis);
        int endMask = mask;
        if (end == null) endMask |= 1 << axis; else e[axis] = end;
        return sd.stridedSlice(x, b, e, ones(rank), mask, endMask, 0, 0, 0);
    }

    // ---------------------------------------------------------------- DepthToSpace, SpaceToDepth

    private static void depthToSpace(OnnxNode n, ImportContext ctx, String mode) {
        n.unsupportedIf(!mode.equals("DCR") && !mode.equals("CRD"), "DepthToSpace mode '" + mode + "'");
        long bs = n.requireInt("blocksize");
        SDVariable x = ctx.input(n, 0);
        if (ctx.inputRank(n, 0) != 4) throw n.error("input must be 4-D (NCHW)");
        RuntimeInts ri = new RuntimeInts(ctx);
        Dims4 d = Dims4.of(ctx, n, ri, x);
        SDVariable c = d.c.div(ri.c(bs * bs));
        SDVariable b = ri.c(bs);
        SameDiff sd = ctx.sd();
        SDVariable tmp;
        if (mode.equals("DCR")) {
            tmp = sd.reshape(x, shapeOf(sd, d.n, b, b, c, d.h, d.w));
            tmp = sd.permute(tmp, 0, 3, 4, 1, 5, 2);
        } else {
            tmp = sd.reshape(x, shapeOf(sd, d.n, c, b, b, d.h, d.w));
            tmp = sd.permute(tmp, 0, 1, 4, 2, 5, 3);
        }
        ctx.setOutput(n, 0, sd.reshape(tmp, shapeOf(sd, d.n, c, d.h.mul(b), d.w.mul(b))));
    }

    private static void spaceToDepth(OnnxNode n, ImportContext ctx) {
        long bs = n.requireInt("blocksize");
        SDVariable x = ctx.input(n, 0);
        if (ctx.inputRank(n, 0) != 4) throw n.error("input must be 4-D (NCHW)");
        RuntimeInts ri = new RuntimeInts(ctx);
        Dims4 d = Dims4.of(ctx, n, ri, x);
        SDVariable b = ri.c(bs);
        SameDiff sd = ctx.sd();
        SDVariable tmp = sd.reshape(x, shapeOf(sd, d.n, d.c, d.h.div(b), b, d.w.div(b), b));
        tmp = sd.permute(tmp, 0, 3, 5, 1, 2, 4);
        ctx.setOutput(n, 0, sd.reshape(tmp, shapeOf(sd, d.n, d.c.mul(ri.c(bs * bs)), d.h.div(b), d.w.div(b))));
    }

    /** N, C, H, W of a 4-D input as int64 scalars: constants when known, else read from shape(x). */
    private record Dims4(SDVariable n, SDVariable c, SDVariable h, SDVariable w) {
        static Dims4 of(ImportContext ctx, OnnxNode node, RuntimeInts ri, SDVariable x) {
            long[] s = ctx.inputShape(node, 0);
            SDVariable dims = Arrays.stream(s).allMatch(v -> v >= 0) ? null : ri.dims(x);
            SDVariable[] v = new SDVariable[4];
            for (int i = 0; i < 4; i++) v[i] = s[i] >= 0 ? ri.c(s[i]) : ri.at(dims, i);
            return new Dims4(v[0], v[1], v[2], v[3]);
        }
    }

    private static SDVariable shapeOf(SameDiff sd, SDVariable... scalars) {
        SDVariable[] parts = new SDVariable[scalars.length];
        for (int i = 0; i < scalars.length; i++) parts[i] = sd.reshape(scalars[i], 1);
        return sd.concat(0, parts);
    }

    // ---------------------------------------------------------------- Einsum

    /**
     * Einsum over one or two operands (explicit or implicit output, '...' for leading dims of equal sizes):
     * repeated labels within an operand take the diagonal, labels used by one side only are summed out,
     * and a pair of operands contracts as one batched matrix product. Dynamic sizes are read from the
     * inputs' shapes at run time; a repeated (diagonal) label needs a known size.
     */
    private static void einsum(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        RuntimeInts ri = new RuntimeInts(ctx);
        String eq = n.getString("equation", null);
        if (eq == null) throw n.error("attribute 'equation' is required");
        eq = eq.replace(" ", "");
        List<SDVariable> xs = ctx.inputs(n);
        String lhs = eq.contains("->") ? eq.substring(0, eq.indexOf("->")) : eq;
        String[] terms = lhs.split(",", -1);
        if (terms.length != xs.size()) throw n.error("equation has " + terms.length + " operands, node has " + xs.size());
        n.unsupportedIf(xs.size() > 2, "Einsum with more than two operands");

        // Expand '...' into digit labels (einsum labels are letters), aligned from the right.
        int ellipsisRank = 0;
        long[][] shapes = new long[xs.size()][];
        for (int i = 0; i < xs.size(); i++) {
            shapes[i] = ctx.inputShape(n, i);
            if (terms[i].contains("...")) {
                ellipsisRank = Math.max(ellipsisRank, shapes[i].length - (terms[i].length() - 3));
            }
        }
        String ell = "";
        for (int i = 0; i < ellipsisRank; i++) ell += (char) ('0' + i);
        List<String> ops = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) {
            String t = terms[i];
            if (t.contains("...")) {
                int own = shapes[i].length - (t.length() - 3);
                t = t.replace("...", ell.substring(ellipsisRank - own));
            }
            if (t.length() != shapes[i].length) throw n.error("operand " + i + " '" + terms[i] + "' does not match rank " + shapes[i].length);
            ops.add(t);
        }
        String out;
        if (eq.contains("->")) {
            out = eq.substring(eq.indexOf("->") + 2).replace("...", ell);
        } else {
            // Implicit output: ellipsis labels, then labels used exactly once, in alphabetical order.
            Map<Character, Integer> count = new LinkedHashMap<>();
            for (String t : ops) for (char ch : t.toCharArray()) count.merge(ch, 1, Integer::sum);
            StringBuilder sb = new StringBuilder(ell);
            count.entrySet().stream().filter(e -> e.getValue() == 1 && !Character.isDigit(e.getKey()))
                    .map(Map.Entry::getKey).sorted().forEach(sb::append);
            out = sb.toString();
        }
        // Size of each label: known (>= 0) or -1, with where to read it at run time.
        Map<Character, Long> sizes = new LinkedHashMap<>();
        Map<Character, SDVariable> sizeVars = new LinkedHashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            SDVariable dims = null;
            for (int j = 0; j < ops.get(i).length(); j++) {
                char ch = ops.get(i).charAt(j);
                long size = shapes[i][j];
                Long prev = sizes.get(ch);
                n.unsupportedIf(prev != null && prev >= 0 && size >= 0 && prev != size,
                        "Einsum with broadcasting label '" + ch + "' (" + prev + " vs " + size + ")");
                if (prev == null || prev < 0) {
                    sizes.put(ch, size);
                    if (size < 0) {
                        if (dims == null) dims = ri.dims(xs.get(i));
                        sizeVars.put(ch, ri.at(dims, j));
                    }
                }
            }
        }
        EinsumSizes es = new EinsumSizes(sd, ri, sizes, sizeVars);

        // Reduce each operand: diagonals, then labels needed neither by the output nor the other operand.
        List<SDVariable> vals = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            SDVariable v = xs.get(i);
            String t = ops.get(i);
            // Diagonal: for a repeated label, multiply by an identity mask and sum the second occurrence out.
            for (int j = 0; j < t.length(); j++) {
                char ch = t.charAt(j);
                int second = t.indexOf(ch, j + 1);
                while (second >= 0) {
                    long size = sizes.get(ch);
                    if (size < 0) throw n.error("repeated label '" + ch + "' needs a known size");
                    long[] maskShape = ones(t.length());
                    maskShape[j] = size;
                    maskShape[second] = size;
                    INDArray eye = Nd4j.eye(size).castTo(v.dataType()).reshape(maskShape);
                    v = es.sumOut(v.mul(ctx.constant(eye)), t, new int[]{second});
                    t = t.substring(0, second) + t.substring(second + 1);
                    second = t.indexOf(ch, j + 1);
                }
            }
            String other = ops.size() == 2 ? ops.get(1 - i) : "";
            List<Integer> sumAxes = new ArrayList<>();
            StringBuilder kept = new StringBuilder();
            for (int j = 0; j < t.length(); j++) {
                char ch = t.charAt(j);
                if (out.indexOf(ch) < 0 && other.indexOf(ch) < 0) sumAxes.add(j);
                else kept.append(ch);
            }
            if (!sumAxes.isEmpty()) v = es.sumOut(v, t, sumAxes.stream().mapToInt(Integer::intValue).toArray());
            vals.add(v);
            labels.add(kept.toString());
        }

        SDVariable result;
        String resultLabels;
        if (vals.size() == 1) {
            result = vals.get(0);
            resultLabels = labels.get(0);
        } else {
            String a = labels.get(0);
            String b = labels.get(1);
            StringBuilder batch = new StringBuilder();
            StringBuilder contract = new StringBuilder();
            StringBuilder left = new StringBuilder();
            StringBuilder right = new StringBuilder();
            for (char ch : a.toCharArray()) {
                if (b.indexOf(ch) >= 0) {
                    if (out.indexOf(ch) >= 0) batch.append(ch); else contract.append(ch);
                } else {
                    left.append(ch);
                }
            }
            for (char ch : b.toCharArray()) if (a.indexOf(ch) < 0) right.append(ch);
            SDVariable av = es.reshape(permuteTo(sd, vals.get(0), a, "" + batch + left + contract), batch, left, contract);
            SDVariable bv = es.reshape(permuteTo(sd, vals.get(1), b, "" + batch + contract + right), batch, contract, right);
            SDVariable mm = sd.mmul(av, bv);
            resultLabels = "" + batch + left + right;
            result = es.reshapeLabels(mm, resultLabels);
        }
        for (char ch : out.toCharArray()) {
            if (resultLabels.indexOf(ch) < 0) throw n.error("output label '" + ch + "' does not appear in the inputs");
        }
        // Labels still present but not in the output are summed out.
        List<Integer> extra = new ArrayList<>();
        StringBuilder kept = new StringBuilder();
        for (int j = 0; j < resultLabels.length(); j++) {
            if (out.indexOf(resultLabels.charAt(j)) < 0) extra.add(j); else kept.append(resultLabels.charAt(j));
        }
        if (!extra.isEmpty()) result = es.sumOut(result, resultLabels, extra.stream().mapToInt(Integer::intValue).toArray());
        ctx.setOutput(n, 0, permuteTo(sd, result, kept.toString(), out));
    }

    /** Label sizes of an Einsum, static where known, else read from the inputs' shapes at run time. */
    private record EinsumSizes(SameDiff sd, RuntimeInts ri, Map<Character, Long> sizes, Map<Character, SDVariable> vars) {

        boolean known(CharSequence labels) {
            for (int i = 0; i < labels.length(); i++) if (sizes.get(labels.charAt(i)) < 0) return false;
            return true;
        }

        long prod(CharSequence labels) {
            long p = 1;
            for (int i = 0; i < labels.length(); i++) p *= sizes.get(labels.charAt(i));
            return p;
        }

        SDVariable prodVar(CharSequence labels) {
            if (known(labels)) return ri.c(prod(labels));
            SDVariable p = ri.c(1);
            for (int i = 0; i < labels.length(); i++) {
                char ch = labels.charAt(i);
                p = p.mul(sizes.get(ch) >= 0 ? ri.c(sizes.get(ch)) : vars.get(ch));
            }
            return p;
        }

        /** Reshapes to one dimension per label group, e.g. [batch, left, contract]. */
        SDVariable reshape(SDVariable v, CharSequence... groups) {
            if (Arrays.stream(groups).allMatch(this::known)) {
                return sd.reshape(v, Arrays.stream(groups).mapToLong(this::prod).toArray());
            }
            return sd.reshape(v, shapeOf(sd, Arrays.stream(groups).map(this::prodVar).toArray(SDVariable[]::new)));
        }

        /** Reshapes to one dimension per label. */
        SDVariable reshapeLabels(SDVariable v, String labels) {
            CharSequence[] groups = new CharSequence[labels.length()];
            for (int i = 0; i < groups.length; i++) groups[i] = labels.substring(i, i + 1);
            if (groups.length == 0) return sd.reshape(v, new long[0]);
            return reshape(v, groups);
        }

        /**
         * Sums out the given axes of a value labelled {@code labels}. Axes of known size 1 are squeezed:
         * SameDiff's reduce ops take a no-op shortcut there that fails at run time.
         */
        SDVariable sumOut(SDVariable v, String labels, int[] axes) {
            StringBuilder reduced = new StringBuilder();
            for (int a : axes) reduced.append(labels.charAt(a));
            if (known(reduced) && prod(reduced) == 1) {
                int[] desc = Arrays.stream(axes).boxed().sorted((x, y) -> y - x).mapToInt(Integer::intValue).toArray();
                for (int a : desc) v = sd.squeeze(v, a);
                return v;
            }
            return sd.sum(v, axes);
        }
    }

    private static SDVariable permuteTo(SameDiff sd, SDVariable v, String from, String to) {
        if (from.equals(to)) return v;
        int[] perm = new int[to.length()];
        for (int i = 0; i < perm.length; i++) perm[i] = from.indexOf(to.charAt(i));
        return sd.permute(v, perm);
    }

    // ---------------------------------------------------------------- run-time integer helpers

    /**
     * Integer arithmetic built into the graph, for indices, sizes and shapes that are only known at run
     * time (slice bounds fed as inputs, pads computed from {@code Shape}, ...). Everything is int64.
     */
    static final class RuntimeInts {

        private final ImportContext ctx;
        private final SameDiff sd;

        RuntimeInts(ImportContext ctx) {
            this.ctx = ctx;
            this.sd = ctx.sd();
        }

        SameDiff sd() {
            return sd;
        }

        SDVariable lng(SDVariable v) {
            return v.dataType() == DataType.LONG ? v : v.castTo(DataType.LONG);
        }

        SDVariable c(long v) {
            return ctx.constant(Nd4j.scalar(DataType.LONG, v));
        }

        SDVariable vec(long... v) {
            return ctx.constant(Nd4j.createFromArray(v));
        }

        /** The input's shape as an int64 vector. */
        SDVariable dims(SDVariable x) {
            return sd.shape(x).castTo(DataType.LONG);
        }

        /** Element i of a vector, as a scalar. */
        SDVariable at(SDVariable vec, int i) {
            return sd.squeeze(sd.slice(vec, new int[]{i}, 1), 0);
        }

        /** [start, start+step, ...) up to end (exclusive), counted exactly: see {@link TensorOps#range}. */
        SDVariable range(SDVariable start, SDVariable end, SDVariable step) {
            SDVariable count = sd.math().ceil(end.sub(start).castTo(DataType.DOUBLE).div(step.castTo(DataType.DOUBLE)));
            count = sd.math().max(count, ctx.scalar(DataType.DOUBLE, 0)).castTo(DataType.LONG);
            return start.add(sd.range(c(0), count, c(1), DataType.LONG).mul(step));
        }

        /**
         * Sum over one dimension of known size. A size-1 dimension is squeezed instead: SameDiff's reduce ops
         * take a no-op shortcut there that fails at run time.
         */
        SDVariable sumOver(SDVariable v, int dim, long size) {
            return size == 1 ? sd.squeeze(v, dim) : sd.sum(v, dim);
        }

        /** Sum of all entries of a vector of known length, as a scalar. */
        SDVariable sumAll(SDVariable vec, long length) {
            return length == 1 ? sd.reshape(vec, new long[0]) : sd.sum(vec);
        }

        /** 1 where v < 0, else 0. */
        SDVariable isNeg(SDVariable v) {
            return sd.lt(v, 0.0).castTo(DataType.LONG);
        }

        SDVariable clamp(SDVariable v, SDVariable lo, SDVariable hi) {
            return sd.math().max(lo, sd.math().min(v, hi));
        }

        /** ONNX index normalisation: a negative index counts from the end. */
        SDVariable wrapNegative(SDVariable idx, SDVariable dim) {
            return idx.add(isNeg(idx).mul(dim));
        }

        /** Exclusive cumulative sum of a small int64 vector (libnd4j's cumsum has no int64 kernel). */
        SDVariable exclusiveCumsum(SDVariable v) {
            return sd.cumsum(v.castTo(DataType.DOUBLE), true, false, 0).castTo(DataType.LONG);
        }

        /** Which of {@code 0..rank-1} appear in a run-time axes vector (negatives wrapped): [rank] of 0/1. */
        SDVariable axisMask(SDVariable axes, int k, int rank) {
            SDVariable a = wrapNegative(lng(axes), c(rank));
            SDVariable positions = vec(range(rank));
            SDVariable hits = sd.eq(sd.reshape(a, k, 1), sd.reshape(positions, 1, rank)).castTo(DataType.LONG);
            return sumOver(hits, 0, k);
        }

        /**
         * Keeps the entries of {@code values} (length {@code n}) where {@code keep} (0/1) is 1, in order;
         * {@code outLength}, the number of kept entries, must be known.
         */
        SDVariable compress(SDVariable values, SDVariable keep, int n, int outLength) {
            if (outLength == 0) {
                return ctx.constant(Nd4j.create(DataType.LONG, 0));
            }
            // Output position of each kept entry = number of kept entries before it.
            SDVariable pos = exclusiveCumsum(keep);
            SDVariable p = sd.reshape(vec(range(outLength)), outLength, 1);
            SDVariable select = sd.eq(sd.reshape(pos, 1, n), p).castTo(DataType.LONG).mul(sd.reshape(keep, 1, n));
            return sumOver(select.mul(sd.reshape(lng(values), 1, n)), 1, n);
        }

        static long[] range(int n) {
            long[] r = new long[n];
            for (int i = 0; i < n; i++) r[i] = i;
            return r;
        }
    }

    /** Random uniform [0,1) of a run-time shape, for Dropout in training mode. */
    static SDVariable uniform(SameDiff sd, SDVariable shape, DataType type) {
        return new DistributionUniform(sd, shape, 0, 1, type).outputVariable();
    }
}
