package dev.graft.tensorflow.ops;

import dev.graft.onnx.ops.GatherOps;
import dev.graft.tensorflow.TfConverterRegistry;
import dev.graft.tensorflow.TfImportContext;
import dev.graft.tensorflow.TfNode;
import dev.graft.tensorflow.TfOpFamily;
import dev.graft.tensorflow.TfTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.PadMode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Shape and layout ops: Reshape, Squeeze, ExpandDims, ConcatV2, Pack, Unpack, Shape, StridedSlice, Slice,
 * Split, SplitV, Pad, PadV2, MirrorPad, Transpose, GatherV2, Fill, Range, Tile, ZerosLike. Arguments that
 * TensorFlow computes at run time (a Reshape's target from tf.shape) stay SameDiff values; constant ones
 * are read through TensorFlow at import time.
 */
public final class TfArrayOps implements TfOpFamily {

    @Override
    public void register(TfConverterRegistry.Builder r) {
        r.importer("Reshape", TfArrayOps::reshape);
        r.importer("Squeeze", TfArrayOps::squeeze);
        r.importer("ExpandDims", (n, ctx) -> {
            int rank = ctx.inputRank(n, 0);
            long[] a = ctx.constantLongs(n, 1, "axis");
            if (a.length != 1) throw n.error("axis must hold one value, has " + a.length);
            ctx.setOutput(n, 0, ctx.sd().expandDims(ctx.input(n, 0), TfImportContext.axis(n, a[0], rank + 1)));
        });
        r.importer("ConcatV2", TfArrayOps::concat);
        r.importer("Pack", (n, ctx) -> {
            int rank = ctx.inputRank(n, 0);
            int axis = TfImportContext.axis(n, n.getInt("axis", 0), rank + 1);
            // As concat of expanded parts (not SameDiff's stack) so that the ONNX export has its ops.
            SDVariable[] parts = inputs(n, ctx, n.inputCount());
            for (int i = 0; i < parts.length; i++) parts[i] = ctx.sd().expandDims(parts[i], axis);
            ctx.setOutput(n, 0, parts.length == 1 ? parts[0] : ctx.sd().concat(axis, parts));
        });
        r.importer("Unpack", (n, ctx) -> {
            int rank = ctx.inputRank(n, 0);
            int axis = TfImportContext.axis(n, n.getInt("axis", 0), rank);
            int num = (int) n.requireInt("num");
            long[] shape = ctx.inputShape(n, 0);
            if (shape[axis] >= 0 && shape[axis] != num) throw n.error("num " + num + " differs from the axis size " + shape[axis]);
            // As one slice per part, each dropping the axis (not SameDiff's unstack), for the ONNX export.
            for (int i = 0; i < num; i++) {
                ctx.setOutput(n, i, ctx.sd().squeeze(axisSlice(ctx.sd(), ctx.input(n, 0), rank, axis, i, i + 1), axis));
            }
        });
        r.importer("Shape", (n, ctx) -> {
            DataType to = TfTensors.toNd4j(n.has("out_type") ? n.getType("out_type") : org.tensorflow.proto.DataType.DT_INT32, n.describe());
            ctx.setOutput(n, 0, ctx.sd().shape(ctx.input(n, 0)).castTo(to));
        });
        r.importer("StridedSlice", TfArrayOps::stridedSlice);
        r.importer("Slice", TfArrayOps::slice);
        r.importer("Split", (n, ctx) -> {
            int rank = ctx.inputRank(n, 1);
            int axis = TfImportContext.axis(n, ctx.constantLongs(n, 0, "axis")[0], rank);
            int num = (int) n.requireInt("num_split");
            long len = ctx.inputShape(n, 1)[axis];
            if (len < 0) throw n.error("splitting an axis of unknown size");
            if (len % num != 0) throw n.error("axis of size " + len + " does not split into " + num + " equal parts");
            long[] sizes = new long[num];
            Arrays.fill(sizes, len / num);
            splitBySizes(n, ctx, ctx.input(n, 1), rank, axis, sizes);
        });
        r.importer("SplitV", (n, ctx) -> {
            int rank = ctx.inputRank(n, 0);
            int axis = TfImportContext.axis(n, ctx.constantLongs(n, 2, "axis")[0], rank);
            long[] sizes = ctx.constantLongs(n, 1, "size_splits").clone();
            long len = ctx.inputShape(n, 0)[axis];
            int unknown = -1;
            long known = 0;
            for (int i = 0; i < sizes.length; i++) {
                if (sizes[i] < 0) unknown = i;
                else known += sizes[i];
            }
            if (unknown >= 0) {
                if (len < 0) throw n.error("a -1 split size on an axis of unknown size");
                sizes[unknown] = len - known;
            }
            splitBySizes(n, ctx, ctx.input(n, 0), rank, axis, sizes);
        });
        r.importer("Pad", (n, ctx) -> pad(n, ctx, PadMode.CONSTANT, 0));
        r.importer("PadV2", (n, ctx) -> pad(n, ctx, PadMode.CONSTANT, ctx.constantInput(n, 2, "constant_values").getDouble(0)));
        r.importer("MirrorPad", (n, ctx) -> {
            String mode = n.getString("mode", "REFLECT");
            pad(n, ctx, switch (mode) {
                case "REFLECT" -> PadMode.REFLECT;
                case "SYMMETRIC" -> PadMode.SYMMETRIC;
                default -> throw n.error("MirrorPad mode '" + mode + "' is not supported");
            }, 0);
        });
        r.importer("Transpose", (n, ctx) -> {
            int[] perm = Arrays.stream(ctx.constantLongs(n, 1, "perm")).mapToInt(v -> (int) v).toArray();
            ctx.setOutput(n, 0, ctx.sd().permute(ctx.input(n, 0), perm));
        });
        r.importer("GatherV2", TfArrayOps::gather);
        r.importer("Fill", TfArrayOps::fill);
        r.importer("Range", TfArrayOps::range);
        r.importer("Tile", (n, ctx) -> {
            long[] m = ctx.constantLongs(n, 1, "multiples");
            ctx.setOutput(n, 0, ctx.sd().tile(ctx.input(n, 0), Arrays.stream(m).mapToInt(v -> (int) v).toArray()));
        });
        r.importer("ZerosLike", (n, ctx) -> ctx.setOutput(n, 0, ctx.sd().zerosLike(ctx.input(n, 0))));
        r.importer("OnesLike", (n, ctx) -> ctx.setOutput(n, 0, ctx.sd().onesLike(ctx.input(n, 0))));
    }

    private static SDVariable[] inputs(TfNode n, TfImportContext ctx, int count) {
        SDVariable[] v = new SDVariable[count];
        for (int i = 0; i < count; i++) v[i] = ctx.input(n, i);
        return v;
    }

    private static void reshape(TfNode n, TfImportContext ctx) {
        SDVariable x = ctx.input(n, 0);
        if (ctx.isStaticInput(n, 1)) {
            long[] shape = ctx.constantLongs(n, 1, "shape");
            ctx.setOutput(n, 0, ctx.sd().reshape(x, shape));
        } else {
            ctx.setOutput(n, 0, ctx.sd().reshape(x, ctx.input(n, 1).castTo(DataType.LONG)));
        }
    }

    private static void squeeze(TfNode n, TfImportContext ctx) {
        long[] shape = ctx.inputShape(n, 0);
        long[] dims = n.getInts("squeeze_dims");
        if (dims == null) dims = n.getInts("axis");
        List<Integer> axes = new ArrayList<>();
        if (dims == null || dims.length == 0) {
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] < 0) throw n.error("squeezing every size-1 axis of a tensor whose axis " + i + " has unknown size");
                if (shape[i] == 1) axes.add(i);
            }
        } else {
            for (long d : dims) axes.add(TfImportContext.axis(n, d, shape.length));
        }
        SDVariable y = ctx.input(n, 0);
        axes.sort(java.util.Comparator.reverseOrder());
        for (int a : axes) y = ctx.sd().squeeze(y, a);
        ctx.setOutput(n, 0, axes.isEmpty() ? ctx.sd().identity(y) : y);
    }

    private static void concat(TfNode n, TfImportContext ctx) {
        int count = n.inputCount() - 1;
        int rank = ctx.inputRank(n, 0);
        int axis = TfImportContext.axis(n, ctx.constantLongs(n, count, "axis")[0], rank);
        SDVariable[] parts = inputs(n, ctx, count);
        ctx.setOutput(n, 0, count == 1 ? ctx.sd().identity(parts[0]) : ctx.sd().concat(axis, parts));
    }

    /**
     * TensorFlow's StridedSlice, lowered to concrete per-axis ranges first (ellipsis, new axes, negative
     * indices, masks, clamping, as tensorflow/core/util/strided_slice_op.cc does), then one forward-stepping
     * strided_slice: an axis with a negative stride is reversed and sliced forward, because libnd4j's own
     * handling of masks with negative strides disagrees with TensorFlow's.
     */
    private static void stridedSlice(TfNode n, TfImportContext ctx) {
        long[] begin = ctx.constantLongs(n, 1, "begin");
        long[] end = ctx.constantLongs(n, 2, "end");
        long[] strides = ctx.constantLongs(n, 3, "strides");
        long[] shape = ctx.inputShape(n, 0);
        int rank = shape.length;
        int beginMask = (int) n.getInt("begin_mask", 0);
        int endMask = (int) n.getInt("end_mask", 0);
        int ellipsisMask = (int) n.getInt("ellipsis_mask", 0);
        int newAxisMask = (int) n.getInt("new_axis_mask", 0);
        int shrinkMask = (int) n.getInt("shrink_axis_mask", 0);
        int entries = begin.length;
        if (end.length != entries || strides.length != entries) throw n.error("begin, end and strides differ in length");
        int consuming = 0;
        for (int i = 0; i < entries; i++) if ((ellipsisMask >> i & 1) == 0 && (newAxisMask >> i & 1) == 0) consuming++;
        if (Integer.bitCount(ellipsisMask) > 1) throw n.error("more than one ellipsis");
        long[] b = new long[rank];
        long[] e = new long[rank];
        long[] st = new long[rank];
        int nativeBegin = 0;
        int nativeEnd = 0;
        List<Integer> reversed = new ArrayList<>();
        List<Integer> shrink = new ArrayList<>();
        List<Integer> newAxes = new ArrayList<>(); // output positions, in the result after shrinking
        int dim = 0;
        int outPos = 0;
        for (int i = 0; i < entries || dim < rank; i++) {
            if (i >= entries || (ellipsisMask >> i & 1) != 0) {
                int covered = i >= entries ? rank - dim : rank - consuming;
                for (int k = 0; k < covered && dim < rank; k++, dim++, outPos++) {
                    b[dim] = 0;
                    st[dim] = 1;
                    e[dim] = shape[dim];
                    if (shape[dim] < 0) nativeEnd |= 1 << dim;
                }
                if (i >= entries) break;
                continue;
            }
            if ((newAxisMask >> i & 1) != 0) {
                newAxes.add(outPos++);
                continue;
            }
            if (dim >= rank) throw n.error("slices more axes than the input's " + rank);
            long len = shape[dim];
            long s = strides[i];
            if (s == 0) throw n.error("stride 0 on axis " + dim);
            boolean shrinks = (shrinkMask >> i & 1) != 0;
            boolean bm = (beginMask >> i & 1) != 0 && !shrinks;
            boolean em = (endMask >> i & 1) != 0 && !shrinks;
            long bi = begin[i];
            long ei = end[i];
            if (len < 0) {
                // Unknown size: only forward steps from a non-negative start, which libnd4j's masks handle.
                if (s < 0 || (!bm && bi < 0) || (!em && !shrinks && ei < 0) || (shrinks && bi < 0)) {
                    throw n.error("axis " + dim + " has unknown size; graft needs it for negative indices or strides");
                }
                b[dim] = bm ? 0 : bi;
                e[dim] = shrinks ? bi + 1 : ei;
                st[dim] = shrinks ? 1 : s;
                if (bm) nativeBegin |= 1 << dim;
                if (em) nativeEnd |= 1 << dim;
            } else {
                if (shrinks) {
                    long idx = bi < 0 ? bi + len : bi;
                    if (idx < 0 || idx >= len) throw n.error("index " + bi + " is out of range for axis " + dim + " of size " + len);
                    b[dim] = idx;
                    e[dim] = idx + 1;
                    st[dim] = 1;
                } else {
                    long lo = s > 0 ? 0 : -1;
                    long hi = s > 0 ? len : len - 1;
                    long bb = bm ? (s > 0 ? 0 : len - 1) : clamp(bi < 0 ? bi + len : bi, lo, hi);
                    long ee = em ? (s > 0 ? len : -1) : clamp(ei < 0 ? ei + len : ei, lo, hi);
                    if (s > 0) {
                        b[dim] = bb;
                        e[dim] = Math.max(ee, bb);
                        st[dim] = s;
                    } else {
                        reversed.add(dim);
                        b[dim] = len - 1 - bb;
                        e[dim] = Math.max(len - 1 - ee, b[dim]);
                        st[dim] = -s;
                    }
                }
            }
            if (shrinks) shrink.add(dim);
            else outPos++;
            dim++;
        }
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        for (int axis : reversed) x = sd.reverse(x, axis);
        SDVariable y = sd.stridedSlice(x, b, e, st, nativeBegin, nativeEnd, 0, 0, 0);
        shrink.sort(java.util.Comparator.reverseOrder());
        for (int axis : shrink) y = sd.squeeze(y, axis);
        for (int pos : newAxes) y = sd.expandDims(y, pos);
        ctx.setOutput(n, 0, y);
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    private static void slice(TfNode n, TfImportContext ctx) {
        long[] shape = ctx.inputShape(n, 0);
        long[] begin = ctx.constantLongs(n, 1, "begin");
        long[] size = ctx.constantLongs(n, 2, "size").clone();
        long[] end = new long[size.length];
        int endMask = 0;
        for (int i = 0; i < size.length; i++) {
            if (size[i] < 0) endMask |= 1 << i; // -1: to the end of the axis
            end[i] = begin[i] + Math.max(size[i], 0);
        }
        long[] strides = new long[size.length];
        Arrays.fill(strides, 1);
        if (shape.length != size.length) throw n.error("begin/size of length " + size.length + " for a tensor of rank " + shape.length);
        ctx.setOutput(n, 0, ctx.sd().stridedSlice(ctx.input(n, 0), begin, end, strides, 0, endMask, 0, 0, 0));
    }

    private static void splitBySizes(TfNode n, TfImportContext ctx, SDVariable x, int rank, int axis, long[] sizes) {
        long start = 0;
        for (int i = 0; i < sizes.length; i++) {
            ctx.setOutput(n, i, axisSlice(ctx.sd(), x, rank, axis, start, start + sizes[i]));
            start += sizes[i];
        }
    }

    private static void pad(TfNode n, TfImportContext ctx, PadMode mode, double value) {
        INDArray p = ctx.constantInput(n, 1, "paddings").castTo(DataType.INT);
        int rank = ctx.inputRank(n, 0);
        if (p.rank() != 2 || p.size(0) != rank || p.size(1) != 2) throw n.error("paddings of shape " + Arrays.toString(p.shape()) + ", expected [" + rank + ", 2]");
        SameDiff sd = ctx.sd();
        if (mode == PadMode.SYMMETRIC) {
            ctx.setOutput(n, 0, symmetricPad(n, ctx, p));
            return;
        }
        ctx.setOutput(n, 0, sd.nn().pad(ctx.input(n, 0), sd.constant(p), mode, value));
    }

    /**
     * MirrorPad SYMMETRIC (the edge repeated) as reversed edge slices concatenated around the input, axis by
     * axis: ONNX's Pad has no such mode, so SameDiff's symmetric pad could not be exported.
     */
    private static SDVariable symmetricPad(TfNode n, TfImportContext ctx, INDArray p) {
        SameDiff sd = ctx.sd();
        long[] shape = ctx.inputShape(n, 0).clone();
        int rank = shape.length;
        SDVariable y = ctx.input(n, 0);
        for (int axis = 0; axis < rank; axis++) {
            long before = p.getLong(axis, 0);
            long after = p.getLong(axis, 1);
            if (before == 0 && after == 0) continue;
            long len = shape[axis];
            if (len < 0) throw n.error("SYMMETRIC padding of axis " + axis + ", whose size is unknown");
            if (before > len || after > len) throw n.error("paddings larger than axis " + axis + " of size " + len);
            List<SDVariable> parts = new ArrayList<>();
            if (before > 0) parts.add(sd.reverse(axisSlice(sd, y, rank, axis, 0, before), axis));
            parts.add(y);
            if (after > 0) parts.add(sd.reverse(axisSlice(sd, y, rank, axis, len - after, len), axis));
            y = sd.concat(axis, parts.toArray(new SDVariable[0]));
            shape[axis] = len + before + after;
        }
        return y;
    }

    /** x[..., from:to, ...] on one axis (every other axis whole). */
    private static SDVariable axisSlice(SameDiff sd, SDVariable x, int rank, int axis, long from, long to) {
        long[] b = new long[rank];
        long[] e = new long[rank];
        long[] st = new long[rank];
        Arrays.fill(st, 1);
        b[axis] = from;
        e[axis] = to;
        int mask = ((1 << rank) - 1) & ~(1 << axis);
        return sd.stridedSlice(x, b, e, st, mask, mask, 0, 0, 0);
    }

    private static void gather(TfNode n, TfImportContext ctx) {
        long batchDims = n.getInt("batch_dims", 0);
        n.unsupportedIf(batchDims != 0, "batch_dims " + batchDims);
        SDVariable data = ctx.input(n, 0);
        long[] shape = ctx.inputShape(n, 0);
        int axis = TfImportContext.axis(n, ctx.constantLongs(n, 2, "axis")[0], shape.length);
        SameDiff sd = ctx.sd();
        // int64 indices: ONNX Runtime's OneHot, which the export of a float gather becomes, has no int32 kernel.
        SDVariable indices = ctx.input(n, 1).dataType() == DataType.LONG ? ctx.input(n, 1) : ctx.input(n, 1).castTo(DataType.LONG);
        int indexRank = ctx.inputRank(n, 1);
        if (data.dataType().isFPType() && shape[axis] > 0) {
            // libnd4j's gather gradient is wrong for repeated indices; a one-hot product trains (GatherOps).
            ctx.setOutput(n, 0, GatherOps.gatherByOneHot(sd, data, indices, axis, shape.length, shape[axis], indexRank));
        } else if (indexRank == 0) {
            ctx.setOutput(n, 0, sd.squeeze(sd.gather(data, sd.reshape(indices, 1), axis), axis));
        } else {
            ctx.setOutput(n, 0, sd.gather(data, indices, axis));
        }
    }

    private static void fill(TfNode n, TfImportContext ctx) {
        if (ctx.isStaticInput(n, 0) && ctx.isStaticInput(n, 1)) {
            long[] dims = ctx.constantLongs(n, 0, "dims");
            INDArray v = ctx.constantInput(n, 1, "value");
            ctx.setOutput(n, 0, ctx.constant(Nd4j.valueArrayOf(dims, v.getDouble(0), v.dataType())));
            return;
        }
        SDVariable value = ctx.input(n, 1);
        SDVariable ones = ctx.sd().create(ctx.input(n, 0).castTo(DataType.LONG), value.dataType());
        ctx.setOutput(n, 0, ctx.sd().math().add(ctx.sd().zerosLike(ones), value));
    }

    private static void range(TfNode n, TfImportContext ctx) {
        DataType type = TfTensors.toNd4j(n.getType("Tidx"), n.describe());
        if (ctx.isStaticInput(n, 0) && ctx.isStaticInput(n, 1) && ctx.isStaticInput(n, 2)) {
            double start = ctx.constantInput(n, 0, "start").getDouble(0);
            double limit = ctx.constantInput(n, 1, "limit").getDouble(0);
            double delta = ctx.constantInput(n, 2, "delta").getDouble(0);
            if (delta == 0) throw n.error("delta is 0");
            long count = Math.max(0, (long) Math.ceil((limit - start) / delta));
            double[] v = new double[(int) count];
            for (int i = 0; i < count; i++) v[i] = start + i * delta;
            ctx.setOutput(n, 0, ctx.constant(Nd4j.createFromArray(v).castTo(type)));
            return;
        }
        ctx.setOutput(n, 0, ctx.sd().range(ctx.input(n, 0), ctx.input(n, 1), ctx.input(n, 2), type));
    }
}
