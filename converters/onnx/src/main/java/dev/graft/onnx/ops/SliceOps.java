package dev.graft.onnx.ops;

import static dev.graft.onnx.ops.IndexOperands.ones;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.ops.IndexOperands.Bounds;
import dev.graft.onnx.ops.IndexOperands.RuntimeInts;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Slice and Split. Bounds are often computed at run time in exported models (from {@code Shape}); each op has
 * a static path, used when they are import-time constants and the shapes involved are known, and a run-time
 * path that computes the same clamped indices in the graph. Both are built from strided slices, reverses and
 * concats, whose gradients ND4J computes correctly, so sliced weights and activations train.
 */
public final class SliceOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        // Slice-1: starts/ends/axes are attributes; Slice-10: inputs, with steps.
        r.importer("Slice", 1, (n, ctx) -> slice(n, ctx, Bounds.of(n.getLongs("starts")), Bounds.of(n.getLongs("ends")),
                Bounds.of(n.getLongs("axes")), Bounds.of((long[]) null)));
        r.importer("Slice", 10, (n, ctx) -> slice(n, ctx, Bounds.input(n, ctx, 1), Bounds.input(n, ctx, 2),
                Bounds.input(n, ctx, 3), Bounds.input(n, ctx, 4)));
        // Split-1 and -2: sizes as attribute (-1 also accepted a second input); -13: input; -18: num_outputs.
        r.importer("Split", 1, (n, ctx) -> split(n, ctx, n.hasInput(1) ? Bounds.input(n, ctx, 1) : Bounds.of(n.getLongs("split")), false));
        r.importer("Split", 2, (n, ctx) -> split(n, ctx, Bounds.of(n.getLongs("split")), false));
        r.importer("Split", 13, (n, ctx) -> split(n, ctx, Bounds.input(n, ctx, 1), false));
        r.importer("Split", 18, (n, ctx) -> split(n, ctx, Bounds.input(n, ctx, 1), true));

        r.exporter("slice", SliceOps::exportSlice);
        r.exporter("strided_slice", SliceOps::exportStridedSlice);
        r.exporter("split", SliceOps::exportSplit);
        r.exporter("reverse", SliceOps::exportReverse);
    }

    // ---------------------------------------------------------------- export

    private static final long BIG = Long.MAX_VALUE;
    private static final long SMALL = Long.MIN_VALUE;

    /**
     * SameDiff slice(x, begin, size): begin and size cover every axis, a size of -1 meaning "to the end".
     * ONNX Slice takes ends: begin + size, or the largest int64 for -1 (computed in the graph when the sizes
     * are known only at run time).
     */
    private static void exportSlice(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        String out = ctx.output(op, 0);
        long[] begin;
        long[] size;
        if (ctx.inputCount(op) >= 3) {
            begin = ctx.constantLongs(ctx.input(op, 1));
            size = ctx.constantLongs(ctx.input(op, 2));
        } else {
            long[] a = ExportContext.intArgs(op);
            int rank = ctx.rank(x);
            if (a.length != 2 * rank) throw ctx.error(op, "expects begin and size for " + rank + " axes, found " + Arrays.toString(a));
            begin = Arrays.copyOfRange(a, 0, rank);
            size = Arrays.copyOfRange(a, rank, 2 * rank);
        }
        if (begin != null && size != null) {
            long[] end = new long[begin.length];
            for (int i = 0; i < end.length; i++) end[i] = size[i] < 0 ? BIG : begin[i] + size[i];
            ctx.node("Slice", x, ctx.longs(begin), ctx.longs(end)).to(out);
            return;
        }
        String b = ShapeOps.int64(ctx, ctx.input(op, 1));
        String s = ShapeOps.int64(ctx, ctx.input(op, 2));
        String sum = ctx.node("Add", b, s).build();
        String toEnd = ctx.node("Less", s, ctx.constant(org.nd4j.linalg.factory.Nd4j.scalar(DataType.LONG, 0L))).build();
        String end = ctx.node("Where", toEnd, ctx.longs(BIG), sum).build();
        ctx.node("Slice", x, b, end).to(out);
    }

    /**
     * SameDiff (TensorFlow) strided slice: one spec entry per begin/end/stride element, each either taking
     * an input axis (begin/end masked to the full range, or shrunk to one index and removed), or adding a
     * new axis; axes after the spec are taken whole. Written as one ONNX Slice over the axes that are cut,
     * then Squeeze for the shrunk axes and Unsqueeze for the new ones. Begin and end may be computed at run
     * time (then shrink and new-axis masks are not supported); strides must be constant.
     */
    private static void exportStridedSlice(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        String out = ctx.output(op, 0);
        long[] a = ExportContext.intArgs(op);
        if (a.length < 5) throw ctx.error(op, "has " + a.length + " integer arguments, expected the 5 masks");
        int beginMask = (int) a[0];
        int ellipsisMask = (int) a[1];
        int endMask = (int) a[2];
        int newAxisMask = (int) a[3];
        int shrinkMask = (int) a[4];
        if (ellipsisMask != 0) throw ctx.error(op, "ellipsis mask " + ellipsisMask + " is not supported for export");
        long[] begin;
        long[] end;
        long[] strides;
        String beginIn = null;
        String endIn = null;
        if (ctx.inputCount(op) >= 4) {
            beginIn = ctx.input(op, 1);
            endIn = ctx.input(op, 2);
            begin = ctx.constantLongs(beginIn);
            end = ctx.constantLongs(endIn);
            strides = ShapeOps.constantArg(op, ctx, 3, "strides");
        } else {
            int k = (a.length - 5) / 3;
            if (a.length != 5 + 3 * k) throw ctx.error(op, "integer arguments " + Arrays.toString(a) + " are not masks + begin/end/strides");
            begin = Arrays.copyOfRange(a, 5, 5 + k);
            end = Arrays.copyOfRange(a, 5 + k, 5 + 2 * k);
            strides = Arrays.copyOfRange(a, 5 + 2 * k, 5 + 3 * k);
        }
        boolean dynamic = begin == null || end == null;
        int k = strides.length;
        int rank = ctx.rank(x);
        List<Long> axes = new ArrayList<>();
        List<Integer> specs = new ArrayList<>();
        List<Long> starts = new ArrayList<>();
        List<Long> ends = new ArrayList<>();
        List<Long> steps = new ArrayList<>();
        List<Long> squeezed = new ArrayList<>();
        List<Long> added = new ArrayList<>();
        boolean anyBeginMasked = false;
        boolean anyEndMasked = false;
        int d = 0;
        int outAxis = 0;
        for (int i = 0; i < k; i++) {
            if ((newAxisMask & (1 << i)) != 0) {
                if (dynamic) throw ctx.error(op, "a new-axis mask with begin/end computed at run time is not supported for export");
                added.add((long) outAxis++);
                continue;
            }
            if (d >= rank) throw ctx.error(op, "slices more axes than the input's " + rank);
            long step = strides[i];
            if (step == 0) throw ctx.error(op, "stride 0");
            boolean bm = (beginMask & (1 << i)) != 0;
            boolean em = (endMask & (1 << i)) != 0;
            if ((shrinkMask & (1 << i)) != 0) {
                if (dynamic) throw ctx.error(op, "a shrink mask with begin/end computed at run time is not supported for export");
                long b = begin[i];
                axes.add((long) d);
                specs.add(i);
                starts.add(b);
                ends.add(b == -1 ? BIG : b + 1);
                steps.add(1L);
                squeezed.add((long) d);
            } else {
                if (!(bm && em && step == 1)) {
                    axes.add((long) d);
                    specs.add(i);
                    starts.add(bm ? (step > 0 ? 0 : BIG) : dynamic ? 0 : begin[i]);
                    ends.add(em ? (step > 0 ? BIG : SMALL) : dynamic ? 0 : end[i]);
                    steps.add(step);
                    anyBeginMasked |= bm;
                    anyEndMasked |= em;
                }
                outAxis++;
            }
            d++;
        }
        String y = x;
        boolean last = squeezed.isEmpty() && added.isEmpty();
        if (!axes.isEmpty()) {
            String st;
            String en;
            if (!dynamic) {
                st = ctx.longs(toArray(starts));
                en = ctx.longs(toArray(ends));
            } else {
                st = dynamicBound(ctx, beginIn, specs, k, beginMask, starts, anyBeginMasked);
                en = dynamicBound(ctx, endIn, specs, k, endMask, ends, anyEndMasked);
            }
            ExportContext.NodeBuilder slice = ctx.node("Slice", y, st, en, ctx.longs(toArray(axes)), ctx.longs(toArray(steps)));
            y = last ? slice.to(out) : slice.build();
        }
        if (!squeezed.isEmpty()) {
            ExportContext.NodeBuilder sq = ctx.node("Squeeze", y, ctx.longs(toArray(squeezed)));
            y = added.isEmpty() ? sq.to(out) : sq.build();
        }
        if (!added.isEmpty()) {
            ctx.node("Unsqueeze", y, ctx.longs(toArray(added))).to(out);
        } else if (y.equals(x)) {
            ctx.node("Identity", x).to(out);
        }
    }

    /**
     * Run-time begin or end entries of the cut axes: the spec entries picked out of the input (all of it when
     * every entry is cut, in order), and masked entries replaced by their full-range bound.
     */
    private static String dynamicBound(ExportContext ctx, String input, List<Integer> specs, int k, int mask,
                                       List<Long> fullBounds, boolean anyMasked) {
        String v = ShapeOps.int64(ctx, input);
        boolean all = specs.size() == k;
        for (int i = 0; i < specs.size() && all; i++) all = specs.get(i) == i;
        if (!all) {
            v = ctx.node("Gather", v, ctx.longs(specs.stream().mapToLong(Integer::longValue).toArray())).attr("axis", 0L).build();
        }
        if (anyMasked) {
            boolean[] masked = new boolean[specs.size()];
            for (int j = 0; j < masked.length; j++) masked[j] = (mask & (1 << specs.get(j))) != 0;
            String cond = ctx.constant(org.nd4j.linalg.factory.Nd4j.createFromArray(masked));
            v = ctx.node("Where", cond, ctx.longs(toArray(fullBounds)), v).build();
        }
        return v;
    }

    private static long[] toArray(List<Long> xs) {
        return xs.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * SameDiff split into equal parts: ONNX Split without sizes (opsets 13 to 17) or with num_outputs (18 on),
     * which agree when the axis divides evenly, as SameDiff requires.
     */
    private static void exportSplit(SameDiffOp op, ExportContext ctx) {
        long[] a = ExportContext.intArgs(op);
        long axis;
        int count = ctx.outputs(op).size();
        if (ctx.inputCount(op) > 1) {
            if (a.length != 1) throw ctx.error(op, "expects the split axis, found " + Arrays.toString(a));
            axis = a[0];
        } else {
            if (a.length != 2) throw ctx.error(op, "expects the number of parts and the axis, found " + Arrays.toString(a));
            axis = a[1];
        }
        ExportContext.NodeBuilder b = ctx.node("Split", ctx.input(op, 0)).attr("axis", axis);
        if (ctx.opset() >= 18) b.attr("num_outputs", (long) count);
        b.to(ctx.outputs(op).toArray(String[]::new));
    }

    /** Reverse along the given axes (none: all of them) as a Slice with step -1. */
    private static void exportReverse(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        long[] axes = ctx.inputCount(op) > 1 ? ShapeOps.constantArg(op, ctx, 1, "axes") : ExportContext.intArgs(op);
        if (axes.length == 0) axes = RuntimeInts.range(ctx.rank(x));
        long[] starts = new long[axes.length];
        long[] ends = new long[axes.length];
        Arrays.fill(starts, -1);
        Arrays.fill(ends, SMALL);
        long[] steps = new long[axes.length];
        Arrays.fill(steps, -1);
        ctx.node("Slice", x, ctx.longs(starts), ctx.longs(ends), ctx.longs(axes), ctx.longs(steps)).to(ctx.output(op, 0));
    }

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
}
