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
import org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MaxPool and AveragePool (1-D, 2-D, 3-D, channels first) and the global poolings (any rank).
 *
 * <p>The common 2-D case (symmetric pads, no dilation, no ceil_mode) is one native pooling op. Everything
 * else pads explicitly and then pools: 2-D undilated with the native op, otherwise one spatial axis at a
 * time (max and average pooling over a box are separable), each axis as a native 2-D pooling with a (k, 1)
 * kernel. This avoids libnd4j's 3-D pooling and its dilated pooling, which gives wrong results (oneDNN).
 * Average pooling that must not count padding (or ceil_mode's extra cells) divides by the same pooling of a
 * constant mask.
 *
 * <p>Export: maxpool2d / avgpool2d and maxpool3dnew / avgpool3dnew become one MaxPool or AveragePool (the
 * importer's pads, masks and reshapes around them are exported by their own families).
 */
public final class PoolingOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("MaxPool", 1, (n, ctx) -> pool(n, ctx, true));
        r.importer("AveragePool", 1, (n, ctx) -> pool(n, ctx, false));
        r.importer("GlobalAveragePool", 1, (n, ctx) -> ctx.setOutput(n, 0,
                ctx.sd().mean(ctx.input(n, 0), true, spatialAxes(ctx.inputRank(n, 0)))));
        r.importer("GlobalMaxPool", 1, (n, ctx) -> ctx.setOutput(n, 0,
                ctx.sd().max(ctx.input(n, 0), true, spatialAxes(ctx.inputRank(n, 0)))));

        r.exporter("maxpool2d", (op, ctx) -> exportPool(op, ctx, 2, true));
        r.exporter("avgpool2d", (op, ctx) -> exportPool(op, ctx, 2, false));
        r.exporter("maxpool3dnew", (op, ctx) -> exportPool(op, ctx, 3, true));
        r.exporter("avgpool3dnew", (op, ctx) -> exportPool(op, ctx, 3, false));
    }

    /**
     * maxpool2d / avgpool2d and maxpool3dnew / avgpool3dnew as MaxPool and AveragePool. The integer argument
     * after the padding mode says for average pooling whether padding cells count in the average (0 no, 1 yes:
     * count_include_pad); the data format flag follows it. The arguments are read in the order libnd4j reads
     * them (kD, kH, kW, ...; ND4J's Pooling3DConfig writes kW before kH, so that is what runs). AveragePool
     * takes dilations from opset 19 only.
     */
    private static void exportPool(SameDiffOp op, ExportContext ctx, int k, boolean max) {
        ConvOps.Spatial s = ConvOps.Spatial.of(op, ctx, k, 4 * k + 2);
        long[] a = ExportContext.intArgs(op);
        if (s.paddingMode() == PaddingMode.CAUSAL.index) throw ctx.error(op, "causal padding in a pooling");
        if (!max && s.dilated() && ctx.opset() < 19) {
            throw ctx.error(op, "dilated average pooling needs opset 19 (AveragePool has no dilations before), writing " + ctx.opset());
        }
        long includePad = !max && a.length > 4 * k + 1 ? a[4 * k + 1] : 0;
        if (includePad != 0 && includePad != 1) throw ctx.error(op, "unknown average pooling divisor mode " + includePad);
        ConvOps.channelsFirstNode(ctx, op, s, ctx.input(op, 0), x -> {
            ExportContext.NodeBuilder n = s.apply(ctx.node(max ? "MaxPool" : "AveragePool", x));
            return includePad == 1 ? n.attr("count_include_pad", 1L) : n;
        });
    }

    static int[] spatialAxes(int rank) {
        int[] axes = new int[rank - 2];
        for (int i = 0; i < axes.length; i++) axes[i] = i + 2;
        return axes;
    }

    private static void pool(OnnxNode n, ImportContext ctx, boolean max) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        long[] xShape = ctx.inputShape(n, 0);
        long[] kernel = n.getLongs("kernel_shape");
        if (kernel == null) throw n.error("required attribute 'kernel_shape' is missing");
        int k = kernel.length;
        if (k < 1 || k > 3) throw n.error(k + "-D pooling is not supported (1-D, 2-D and 3-D are)");
        if (xShape.length != k + 2) throw n.error("input rank " + xShape.length + " does not match a " + k + "-D kernel");
        long[] spatial = Arrays.copyOfRange(xShape, 2, xShape.length);
        ConvOps.Window win = ConvOps.Window.of(n, kernel).resolved(n, spatial);
        boolean countIncludePad = !max && n.getLong("count_include_pad", 0) != 0;
        boolean ceil = n.getLong("ceil_mode", 0) != 0;

        // ceil_mode: extra cells at the end so that a floor-mode pooling gives the ceil-mode output size; as in
        // PyTorch and the ONNX reference, a last window that would start in the end padding is dropped.
        long[] extra = new long[k];
        boolean anyExtra = false;
        if (ceil) {
            for (int i = 0; i < k; i++) {
                if (spatial[i] < 0) throw n.error("ceil_mode=1 over a dynamic spatial size");
                long padded = spatial[i] + win.padBegin()[i] + win.padEnd()[i];
                long span = padded - win.effectiveKernel(i);
                if (span < 0) throw n.error("kernel is larger than the padded input");
                long out = Math.floorDiv(span + win.strides()[i] - 1, win.strides()[i]) + 1;
                if ((out - 1) * win.strides()[i] >= spatial[i] + win.padBegin()[i]) out--;
                extra[i] = Math.max(0, (out - 1) * win.strides()[i] + win.effectiveKernel(i) - padded);
                anyExtra |= extra[i] > 0;
            }
        }

        SDVariable y;
        if (k == 2 && !win.dilated() && !anyExtra && win.symmetric()
                && (max || !countIncludePad || !win.padded())) {
            // Native op with its own symmetric padding (max ignores pad cells; average excludes them).
            y = native2d(sd, x, kernel, win.strides(), win.padBegin(), max, false);
        } else {
            y = padAndPool(n, ctx, x, xShape, win, extra, max);
            if (!max && (!countIncludePad || anyExtra)) {
                // Divide by the number of cells that count: pool a mask of the same padded layout.
                long[] maskShape = xShape.clone();
                maskShape[0] = 1;
                maskShape[1] = 1;
                for (int i = 0; i < k; i++) {
                    if (spatial[i] < 0) throw n.error("average pooling with these pads over a dynamic spatial size");
                }
                SDVariable ones = ctx.constant(Nd4j.ones(DataType.FLOAT, maskShape).castTo(x.dataType()));
                SDVariable mask = countIncludePad
                        ? ConvOps.padSpatial(ctx, ones, win.padBegin(), win.padEnd(), 1) : ones;
                long[] maskBegin = countIncludePad ? new long[k] : win.padBegin();
                long[] maskEnd = new long[k];
                for (int i = 0; i < k; i++) maskEnd[i] = extra[i] + (countIncludePad ? 0 : win.padEnd()[i]);
                mask = ConvOps.padSpatial(ctx, mask, maskBegin, maskEnd, 0);
                long[] paddedMaskShape = maskShape.clone();
                for (int i = 0; i < k; i++) paddedMaskShape[i + 2] += win.padBegin()[i] + win.padEnd()[i] + extra[i];
                SDVariable divisor = poolPadded(n, sd, mask, paddedMaskShape, win, false);
                y = y.div(divisor);
            }
        }
        ctx.setOutput(n, 0, y);
        if (max && n.hasOutput(1)) {
            ctx.setOutput(n, 1, maxIndices(n, ctx, x, xShape, win, extra, y));
        }
    }

    /**
     * MaxPool's Indices output: for every output cell, the flat index (over the whole N, C, spatial input,
     * spatial part row-major, or column-major for storage_order=1) of the first maximum in its window.
     * libnd4j's max_pool_with_argmax does not give these, so the taps are compared one by one: each kernel
     * offset is a strided slice of the padded input, and going through the offsets backwards, a tap equal to
     * the maximum overwrites the index, so the first one in the window wins. Not differentiable (int64).
     */
    private static SDVariable maxIndices(OnnxNode n, ImportContext ctx, SDVariable x, long[] xShape,
                                         ConvOps.Window win, long[] extra, SDVariable y) {
        SameDiff sd = ctx.sd();
        int k = extra.length;
        long[] spatial = Arrays.copyOfRange(xShape, 2, xShape.length);
        for (long v : spatial) if (v < 0) throw n.error("MaxPool's Indices output over a dynamic spatial size");
        if (xShape[1] < 0) throw n.error("MaxPool's Indices output over a dynamic channel count");
        long storageOrder = n.getLong("storage_order", 0);
        n.unsupportedIf(storageOrder != 0 && storageOrder != 1, "storage_order=" + storageOrder);
        long[] flatStride = new long[k];
        long spatialSize = 1;
        for (int t = 0; t < k; t++) {
            int i = storageOrder == 0 ? k - 1 - t : t;
            flatStride[i] = spatialSize;
            spatialSize *= spatial[i];
        }
        long[] out = new long[k];
        long[] end = new long[k];
        long outCount = 1;
        long taps = 1;
        for (int i = 0; i < k; i++) {
            end[i] = win.padEnd()[i] + extra[i];
            long padded = spatial[i] + win.padBegin()[i] + end[i];
            out[i] = (padded - win.effectiveKernel(i)) / win.strides()[i] + 1;
            outCount *= out[i];
            taps *= win.kernel()[i];
        }
        SDVariable xp = ConvOps.padSpatial(ctx, x, win.padBegin(), end, lowest(x.dataType()));
        long[] idxShape = new long[k + 2];
        idxShape[0] = 1;
        idxShape[1] = 1;
        System.arraycopy(out, 0, idxShape, 2, k);
        SDVariable result = sd.zerosLike(y).castTo(DataType.LONG);
        for (long j = taps - 1; j >= 0; j--) {
            long[] off = unravel(j, win.kernel());
            long[] b = new long[k];
            long[] e = new long[k];
            for (int i = 0; i < k; i++) {
                b[i] = off[i] * win.dilations()[i];
                e[i] = b[i] + (out[i] - 1) * win.strides()[i] + 1;
            }
            SDVariable tap = ConvOps.sliceSpatial(sd, xp, b, e, win.strides());
            long[] flat = new long[(int) outCount];
            for (int o = 0; o < outCount; o++) {
                long[] pos = unravel(o, out);
                long f = 0;
                for (int i = 0; i < k; i++) {
                    f += (pos[i] * win.strides()[i] + b[i] - win.padBegin()[i]) * flatStride[i];
                }
                flat[o] = f;
            }
            SDVariable idx = ctx.constant(Nd4j.createFromArray(flat).reshape(idxShape));
            SDVariable hit = sd.eq(tap, y).castTo(DataType.LONG);
            result = result.add(hit.mul(idx.sub(result)));
        }
        // Offset of each (n, c) plane: (n * C + c) * spatialSize; n counted with a cumulative sum so that a
        // dynamic batch size stays dynamic.
        long[] cShape = new long[k + 2];
        Arrays.fill(cShape, 1);
        cShape[1] = xShape[1];
        long[] cOff = new long[(int) xShape[1]];
        for (int c = 0; c < cOff.length; c++) cOff[c] = c * spatialSize;
        SDVariable batchIndex = sd.cumsum(sd.onesLike(result, DataType.DOUBLE), true, false, 0).castTo(DataType.LONG); // cumsum has no int64 kernel
        result = result.add(ctx.constant(Nd4j.createFromArray(cOff).reshape(cShape)))
                .add(batchIndex.mul(xShape[1] * spatialSize));
        return result;
    }

    /** Row-major coordinates of a linear position in a box of the given sizes. */
    private static long[] unravel(long linear, long[] sizes) {
        long[] pos = new long[sizes.length];
        for (int i = sizes.length - 1; i >= 0; i--) {
            pos[i] = linear % sizes[i];
            linear /= sizes[i];
        }
        return pos;
    }

    /** Pads explicitly (pads plus ceil_mode's extra cells) and pools with no further padding. */
    private static SDVariable padAndPool(OnnxNode n, ImportContext ctx, SDVariable x, long[] xShape,
                                         ConvOps.Window win, long[] extra, boolean max) {
        int k = extra.length;
        long[] end = new long[k];
        long[] padded = xShape.clone();
        boolean pad = false;
        for (int i = 0; i < k; i++) {
            end[i] = win.padEnd()[i] + extra[i];
            pad |= win.padBegin()[i] != 0 || end[i] != 0;
            if (padded[i + 2] >= 0) padded[i + 2] += win.padBegin()[i] + end[i];
        }
        if (pad) x = ConvOps.padSpatial(ctx, x, win.padBegin(), end, max ? lowest(x.dataType()) : 0);
        return poolPadded(n, ctx.sd(), x, padded, win, max);
    }

    /** The value that never wins a max: -inf for floating types, the type's minimum for integers. */
    private static double lowest(DataType t) {
        if (t.isFPType()) return Double.NEGATIVE_INFINITY;
        return switch (t) {
            case UBYTE, UINT16, UINT32, UINT64, BOOL -> 0;
            case BYTE -> Byte.MIN_VALUE;
            case SHORT -> Short.MIN_VALUE;
            case INT -> Integer.MIN_VALUE;
            default -> Long.MIN_VALUE;
        };
    }

    /** Pools an already padded input (no padding, floor mode) over all spatial axes. */
    private static SDVariable poolPadded(OnnxNode n, SameDiff sd, SDVariable x, long[] shape,
                                         ConvOps.Window win, boolean max) {
        int k = win.kernel().length;
        if (k == 2 && !win.dilated()) {
            return native2d(sd, x, win.kernel(), win.strides(), new long[2], max, false);
        }
        for (int i = 2; i < shape.length; i++) {
            if (shape[i] < 0) throw n.error(k + "-D or dilated pooling over a dynamic spatial size");
        }
        if (shape[1] < 0) throw n.error(k + "-D or dilated pooling over a dynamic channel count");
        long[] cur = shape.clone();
        for (int i = 0; i < k; i++) {
            x = poolAxis(n, sd, x, cur, i + 2, win.kernel()[i], win.strides()[i], win.dilations()[i], max);
        }
        return x;
    }

    /**
     * Pools along one axis of an NC... tensor (static sizes except the batch), updating {@code shape}.
     * The tensor is viewed as [P, 1, L, Q] and pooled with a (k, 1) kernel. A dilation d runs as a stride-1
     * pooling of the d phases side by side: L (padded up to M*d) viewed as [M, d*Q] makes the taps l, l+d, ..
     * neighbours; the stride is applied afterwards with a strided slice.
     */
    private static SDVariable poolAxis(OnnxNode n, SameDiff sd, SDVariable x, long[] shape, int axis,
                                       long kernel, long stride, long dilation, boolean max) {
        long len = shape[axis];
        long q = 1;
        for (int i = axis + 1; i < shape.length; i++) q *= shape[i];
        long effK = (kernel - 1) * dilation + 1;
        if (len < effK) throw n.error("kernel is larger than the padded input");
        long out = (len - effK) / stride + 1;
        SDVariable y;
        if (dilation == 1) {
            SDVariable v = sd.reshape(x, -1, 1, len, q);
            y = native2d(sd, v, new long[]{kernel, 1}, new long[]{stride, 1}, new long[2], max, false);
        } else {
            long m = (len + dilation - 1) / dilation;
            SDVariable v = sd.reshape(x, -1, len, q);
            if (m * dilation > len) {
                // Filler cells only reach outputs that the slice below drops.
                long[][] p = {{0, 0}, {0, m * dilation - len}, {0, 0}};
                v = sd.nn().pad(v, sd.constant(Nd4j.createFromArray(p).castTo(DataType.INT)), 0);
            }
            v = sd.reshape(v, -1, 1, m, dilation * q);
            v = native2d(sd, v, new long[]{kernel, 1}, new long[]{1, 1}, new long[2], max, false);
            v = sd.reshape(v, -1, (m - kernel + 1) * dilation, q);
            y = sd.stridedSlice(v, new long[]{0, 0, 0}, new long[]{0, (out - 1) * stride + 1, 0},
                    new long[]{1, stride, 1}, 0b101, 0b101, 0, 0, 0);
        }
        shape[axis] = out;
        long[] target = shape.clone();
        target[0] = -1;
        return sd.reshape(y, target);
    }

    private static SDVariable native2d(SameDiff sd, SDVariable x, long[] kernel, long[] strides, long[] pads,
                                       boolean max, boolean includePad) {
        Pooling2DConfig config = Pooling2DConfig.builder()
                .kH(kernel[0]).kW(kernel[1])
                .sH(strides[0]).sW(strides[1])
                .pH(pads[0]).pW(pads[1])
                .dH(1).dW(1)
                .paddingMode(PaddingMode.VALID)
                .type(max ? Pooling2D.Pooling2DType.MAX : Pooling2D.Pooling2DType.AVG)
                .divisor(includePad ? Pooling2D.Divisor.INCLUDE_PADDING : Pooling2D.Divisor.EXCLUDE_PADDING)
                .isNHWC(false)
                .build();
        return max ? sd.cnn().maxPooling2d(x, config) : sd.cnn().avgPooling2d(x, config);
    }
}
