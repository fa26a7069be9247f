package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv3DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.DeConv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.DeConv3DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Convolutions and transposed convolutions (channels first), 1-D, 2-D and 3-D. 1-D ones run as 2-D ones over
 * a height of 1. Asymmetric pads become a Pad op in front. Groups run as depthwise convolution when each
 * group has one input channel (2-D), else as one convolution per group. Dilations are applied to the
 * weights (zeros between the taps, built with SameDiff ops so the weights stay trainable): libnd4j's oneDNN
 * path rejects dilated convolutions ("could not create a descriptor for a dilated convolution").
 *
 * <p>Export: conv1d, conv2d, conv3dnew and depthwise_conv2d become one Conv, deconv2d and deconv3d one
 * ConvTranspose; channels-last data is transposed to channels first and back, weights in libnd4j's layouts
 * are transposed to ONNX's (the importer's permutes and these cancel in the exporter's TransposePairPass;
 * weights held in another layout are stored in ONNX's by its ConvWeightLayoutPass).
 */
public final class ConvOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("Conv", 1, ConvOps::conv);
        r.importer("ConvTranspose", 1, ConvOps::convTranspose);

        r.exporter("conv1d", (op, ctx) -> exportConv(op, ctx, 1, false));
        r.exporter("conv2d", (op, ctx) -> exportConv(op, ctx, 2, false));
        r.exporter("conv3dnew", (op, ctx) -> exportConv(op, ctx, 3, false));
        r.exporter("depthwise_conv2d", (op, ctx) -> exportConv(op, ctx, 2, true));
        r.exporter("deconv2d", (op, ctx) -> exportDeconv(op, ctx, 2));
        r.exporter("deconv3d", (op, ctx) -> exportDeconv(op, ctx, 3));
    }

    /** Spatial attributes of a convolution or pooling node, resolved against the kernel size. */
    record Window(long[] kernel, long[] strides, long[] dilations, long[] padBegin, long[] padEnd, String autoPad) {

        static Window of(OnnxNode n, long[] kernel) {
            int k = kernel.length;
            long[] strides = n.getLongs("strides", ones(k));
            long[] dilations = n.getLongs("dilations", ones(k));
            if (strides.length != k) throw n.error("strides has " + strides.length + " entries, expected " + k);
            if (dilations.length != k) throw n.error("dilations has " + dilations.length + " entries, expected " + k);
            long[] pads = n.getLongs("pads", new long[2 * k]);
            if (pads.length != 2 * k) throw n.error("pads has " + pads.length + " entries, expected " + 2 * k);
            long[] begin = new long[k];
            long[] end = new long[k];
            for (int i = 0; i < k; i++) {
                begin[i] = pads[i];
                end[i] = pads[i + k];
            }
            String autoPad = n.getString("auto_pad", "NOTSET");
            n.unsupportedIf(!List.of("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER").contains(autoPad),
                    "auto_pad=" + autoPad);
            return new Window(kernel, strides, dilations, begin, end, autoPad);
        }

        boolean symmetric() {
            for (int i = 0; i < padBegin.length; i++) if (padBegin[i] != padEnd[i]) return false;
            return true;
        }

        boolean dilated() {
            for (long d : dilations) if (d != 1) return true;
            return false;
        }

        boolean padded() {
            for (int i = 0; i < padBegin.length; i++) if (padBegin[i] != 0 || padEnd[i] != 0) return true;
            return false;
        }

        long effectiveKernel(int i) {
            return (kernel[i] - 1) * dilations[i] + 1;
        }

        /** Resolves SAME_UPPER/SAME_LOWER to explicit pads for the given input spatial sizes. */
        Window resolved(OnnxNode n, long[] spatial) {
            if (autoPad.equals("NOTSET") || autoPad.equals("VALID")) {
                return autoPad.equals("VALID")
                        ? new Window(kernel, strides, dilations, new long[kernel.length], new long[kernel.length], "NOTSET")
                        : this;
            }
            long[] b = new long[kernel.length];
            long[] e = new long[kernel.length];
            for (int i = 0; i < kernel.length; i++) {
                if (spatial[i] < 0) throw n.error("auto_pad " + autoPad + " over a dynamic spatial size");
                long out = (spatial[i] + strides[i] - 1) / strides[i];
                long total = Math.max(0, (out - 1) * strides[i] + effectiveKernel(i) - spatial[i]);
                long small = total / 2;
                long big = total - small;
                b[i] = autoPad.equals("SAME_LOWER") ? big : small;
                e[i] = autoPad.equals("SAME_LOWER") ? small : big;
            }
            return new Window(kernel, strides, dilations, b, e, "NOTSET");
        }

        /** The same window over one more leading spatial axis of size 1 (1-D run as 2-D). */
        Window as2d() {
            return new Window(new long[]{1, kernel[0]}, new long[]{1, strides[0]}, new long[]{1, dilations[0]},
                    new long[]{0, padBegin[0]}, new long[]{0, padEnd[0]}, autoPad);
        }
    }

    static long[] ones(int k) {
        long[] a = new long[k];
        Arrays.fill(a, 1);
        return a;
    }

    /** Pads NC... input explicitly with a constant (zero, or the lowest value for max pooling). */
    static SDVariable padSpatial(ImportContext ctx, SDVariable x, long[] begin, long[] end, double value) {
        int k = begin.length;
        long[][] p = new long[k + 2][2];
        for (int i = 0; i < k; i++) {
            p[i + 2][0] = begin[i];
            p[i + 2][1] = end[i];
        }
        SDVariable pads = ctx.constant(Nd4j.createFromArray(p).castTo(DataType.INT));
        return ctx.sd().nn().pad(x, pads, value);
    }

    /**
     * Slices the spatial axes (2..) of an NC... tensor: {@code [begin[i] : end[i] : step[i]]}, where an end of
     * {@code Long.MAX_VALUE} means "to the end" (so the slice works on dynamic sizes too).
     */
    static SDVariable sliceSpatial(SameDiff sd, SDVariable x, long[] begin, long[] end, long[] step) {
        int k = begin.length;
        long[] b = new long[k + 2];
        long[] e = new long[k + 2];
        long[] s = new long[k + 2];
        int beginMask = 0b11;
        int endMask = 0b11;
        s[0] = 1;
        s[1] = 1;
        for (int i = 0; i < k; i++) {
            b[i + 2] = begin[i];
            s[i + 2] = step[i];
            if (end[i] == Long.MAX_VALUE) {
                endMask |= 1 << (i + 2);
            } else {
                e[i + 2] = end[i];
            }
        }
        return sd.stridedSlice(x, b, e, s, beginMask, endMask, 0, 0, 0);
    }

    /**
     * Inserts dilation-1 zeros between the taps of [O, I, k...] weights along every spatial axis, so that a
     * plain convolution with the result equals the dilated convolution. Built from the weight variable with
     * reshape/pad/slice ops, so gradients flow back to the original weights.
     */
    static SDVariable dilateKernel(ImportContext ctx, SDVariable w, long[] wShape, long[] dilations) {
        return dilateKernel(ctx.sd(), w, wShape, dilations, 2);
    }

    /**
     * The same for any weight layout: the spatial axes are {@code firstSpatial}, {@code firstSpatial + 1}, ...
     * (2 for ONNX's [O, I, k...], 0 for TensorFlow's [kH, kW, I, O]).
     */
    public static SDVariable dilateKernel(SameDiff sd, SDVariable w, long[] wShape, long[] dilations, int firstSpatial) {
        long[] shape = wShape.clone();
        for (int i = 0; i < dilations.length; i++) {
            long d = dilations[i];
            if (d == 1) continue;
            int axis = i + firstSpatial;
            // [.., k, rest..] -> [.., k, 1, rest..] -> pad to [.., k, d, rest..] -> [.., k*d, rest..] -> first (k-1)*d+1
            long[] withUnit = new long[shape.length + 1];
            System.arraycopy(shape, 0, withUnit, 0, axis + 1);
            withUnit[axis + 1] = 1;
            System.arraycopy(shape, axis + 1, withUnit, axis + 2, shape.length - axis - 1);
            SDVariable t = sd.reshape(w, withUnit);
            long[][] p = new long[withUnit.length][2];
            p[axis + 1][1] = d - 1;
            t = sd.nn().pad(t, sd.constant(Nd4j.createFromArray(p).castTo(DataType.INT)), 0);
            long[] merged = shape.clone();
            merged[axis] = shape[axis] * d;
            t = sd.reshape(t, merged);
            long[] b = new long[shape.length];
            long[] e = merged.clone();
            e[axis] = (shape[axis] - 1) * d + 1;
            w = sd.stridedSlice(t, b, e, ones(shape.length));
            shape = e;
        }
        return w;
    }

    /** Kernel shape from the attribute, checked against the weights (dims 2.. of W). */
    private static long[] kernelShape(OnnxNode n, long[] wShape) {
        long[] fromW = Arrays.copyOfRange(wShape, 2, wShape.length);
        long[] kernel = n.getLongs("kernel_shape", fromW);
        if (!Arrays.equals(kernel, fromW)) {
            throw n.error("kernel_shape " + Arrays.toString(kernel) + " does not match the weights " + Arrays.toString(wShape));
        }
        return kernel;
    }

    // ---------------------------------------------------------------- Conv

    private static void conv(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        SDVariable w = ctx.input(n, 1);
        SDVariable b = ctx.optionalInput(n, 2);
        long[] wShape = ctx.inputShape(n, 1);
        long[] xShape = ctx.inputShape(n, 0);
        int spatialRank = wShape.length - 2;
        if (spatialRank < 1 || spatialRank > 3) {
            throw n.error(spatialRank + "-D convolution is not supported (1-D, 2-D and 3-D are)");
        }
        long[] kernel = kernelShape(n, wShape);
        Window win = Window.of(n, kernel).resolved(n, Arrays.copyOfRange(xShape, 2, xShape.length));
        long group = n.getLong("group", 1);
        if (group < 1 || wShape[0] % group != 0) throw n.error("group " + group + " does not divide " + wShape[0] + " output channels");
        boolean oneD = spatialRank == 1;
        if (oneD) {
            x = sd.expandDims(x, 2);
            w = sd.expandDims(w, 2);
            wShape = new long[]{wShape[0], wShape[1], 1, wShape[2]};
            win = win.as2d();
        }
        if (win.dilated()) {
            w = dilateKernel(ctx, w, wShape, win.dilations);
            long[] k = new long[win.kernel.length];
            for (int i = 0; i < k.length; i++) k[i] = win.effectiveKernel(i);
            wShape = wShape.clone();
            System.arraycopy(k, 0, wShape, 2, k.length);
            win = new Window(k, win.strides, ones(k.length), win.padBegin, win.padEnd, "NOTSET");
        }
        long[] pads = win.padBegin.clone();
        if (!win.symmetric()) {
            x = padSpatial(ctx, x, win.padBegin, win.padEnd, 0);
            pads = new long[pads.length];
        }
        long inChannels = wShape[1] * group;
        SDVariable y;
        if (group == 1) {
            y = convNd(sd, x, w, b, win, pads);
        } else if (wShape.length == 4 && wShape[1] == 1) {
            y = depthwise(sd, x, w, b, win, pads, inChannels, wShape);
        } else {
            SDVariable[] xs = sd.split(x, (int) group, 1);
            SDVariable[] ws = sd.split(w, (int) group, 0);
            SDVariable[] bs = b == null ? null : sd.split(b, (int) group, 0);
            List<SDVariable> outs = new ArrayList<>();
            for (int g = 0; g < group; g++) {
                outs.add(convNd(sd, xs[g], ws[g], bs == null ? null : bs[g], win, pads));
            }
            y = sd.concat(1, outs.toArray(new SDVariable[0]));
        }
        if (oneD) {
            y = sd.squeeze(y, 2);
        }
        ctx.setOutput(n, 0, y);
    }

    /** One ungrouped, undilated 2-D or 3-D convolution with symmetric pads {@code pads}. */
    private static SDVariable convNd(SameDiff sd, SDVariable x, SDVariable w, SDVariable b, Window win, long[] pads) {
        if (win.kernel.length == 2) {
            // Weights go in as libnd4j's default [kH, kW, iC, oC]: conv2d_bp ignores weightsFormat=OIYX in
            // ND4J 1.0.0-M2.1 and fails, so OIYX weights would import fine but could not be trained.
            return sd.cnn().conv2d(x, sd.permute(w, 2, 3, 1, 0), b, conv2dConfig(win, pads));
        }
        // conv3dnew takes weights as [kD, kH, kW, iC, oC]; ONNX has [oC, iC, kD, kH, kW].
        SDVariable w3 = sd.permute(w, 2, 3, 4, 1, 0);
        Conv3DConfig config = Conv3DConfig.builder()
                .kD(win.kernel[0]).kH(win.kernel[1]).kW(win.kernel[2])
                .sD(win.strides[0]).sH(win.strides[1]).sW(win.strides[2])
                .pD(pads[0]).pH(pads[1]).pW(pads[2])
                .dD(1).dH(1).dW(1)
                .biasUsed(b != null)
                .paddingMode(PaddingMode.VALID)
                .dataFormat(Conv3DConfig.NCDHW)
                .build();
        return b == null ? sd.cnn().conv3d(x, w3, config) : sd.cnn().conv3d(x, w3, b, config);
    }

    private static Conv2DConfig conv2dConfig(Window win, long[] pads) {
        return Conv2DConfig.builder()
                .kH(win.kernel[0]).kW(win.kernel[1])
                .sH(win.strides[0]).sW(win.strides[1])
                .pH(pads[0]).pW(pads[1])
                .dH(1).dW(1)
                .paddingMode(PaddingMode.VALID)
                .dataFormat(Conv2DConfig.NCHW)
                .build();
    }

    /**
     * Grouped 2-D convolution with one input channel per group: one depthwise convolution instead of
     * {@code group} small ones (MobileNet-style networks rely on this being fast). ONNX weights
     * [C*m, 1, kH, kW] with output channel c*m + j become depthwise weights [kH, kW, C, m].
     */
    private static SDVariable depthwise(SameDiff sd, SDVariable x, SDVariable w, SDVariable b, Window win,
                                        long[] pads, long channels, long[] wShape) {
        long multiplier = wShape[0] / channels;
        SDVariable dw = sd.permute(sd.reshape(w, channels, multiplier, wShape[2], wShape[3]), 2, 3, 0, 1);
        Conv2DConfig config = conv2dConfig(win, pads);
        return b == null ? sd.cnn().depthWiseConv2d(x, dw, config) : sd.cnn().depthWiseConv2d(x, dw, b, config);
    }

    // ---------------------------------------------------------------- ConvTranspose

    /**
     * ConvTranspose: a full (unpadded) deconvolution, then the ONNX pads are cropped off (and output_padding
     * added as zeros at the end), then the bias is added, so every combination of pads, output_padding,
     * output_shape and auto_pad maps onto the one libnd4j op.
     */
    private static void convTranspose(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        SDVariable w = ctx.input(n, 1);
        SDVariable b = ctx.optionalInput(n, 2);
        long[] wShape = ctx.inputShape(n, 1);
        long[] xShape = ctx.inputShape(n, 0);
        int k = wShape.length - 2;
        if (k < 1 || k > 3) throw n.error(k + "-D transposed convolution is not supported (1-D, 2-D and 3-D are)");
        long[] kernel = kernelShape(n, wShape);
        Window win = Window.of(n, kernel);
        long group = n.getLong("group", 1);
        if (group < 1 || wShape[0] % group != 0) throw n.error("group " + group + " does not divide " + wShape[0] + " input channels");
        long[] outputPadding = n.getLongs("output_padding", new long[k]);
        if (outputPadding.length != k) throw n.error("output_padding has " + outputPadding.length + " entries, expected " + k);
        long[] outputShape = n.getLongs("output_shape", null);
        if (outputShape != null && outputShape.length == k + 2) {
            outputShape = Arrays.copyOfRange(outputShape, 2, k + 2);
        }
        if (outputShape != null && outputShape.length != k) throw n.error("output_shape has " + outputShape.length + " entries, expected " + k);
        String autoPad = win.autoPad;
        long[] padBegin = win.padBegin.clone();
        long[] padEnd = win.padEnd.clone();
        for (int i = 0; i < k; i++) {
            long effK = win.effectiveKernel(i);
            long total;
            if (outputShape != null) {
                if (xShape[i + 2] < 0) throw n.error("output_shape over a dynamic spatial size");
                total = win.strides[i] * (xShape[i + 2] - 1) + outputPadding[i] + effK - outputShape[i];
            } else if (autoPad.startsWith("SAME")) {
                // output = input * stride, so the total padding does not depend on the input size.
                total = outputPadding[i] + effK - win.strides[i];
            } else if (autoPad.equals("VALID")) {
                padBegin[i] = 0;
                padEnd[i] = 0;
                continue;
            } else {
                continue;
            }
            // The ONNX spec's split (floor division as in its reference implementation, which matters when
            // output_shape asks for more than the full size): the odd pixel goes to the end for SAME_UPPER.
            long half = Math.floorDiv(total, 2);
            if (autoPad.equals("SAME_UPPER")) {
                padBegin[i] = half;
                padEnd[i] = total - half;
            } else {
                padBegin[i] = total - half;
                padEnd[i] = half;
            }
        }
        boolean oneD = k == 1;
        long[] strides = win.strides;
        long[] dilations = win.dilations;
        if (oneD) {
            x = sd.expandDims(x, 2);
            w = sd.expandDims(w, 2);
            wShape = new long[]{wShape[0], wShape[1], 1, wShape[2]};
            kernel = new long[]{1, kernel[0]};
            strides = new long[]{1, strides[0]};
            dilations = new long[]{1, dilations[0]};
            padBegin = new long[]{0, padBegin[0]};
            padEnd = new long[]{0, padEnd[0]};
            outputPadding = new long[]{0, outputPadding[0]};
        }
        int sk = kernel.length;
        long[] effKernel = new long[sk];
        for (int i = 0; i < sk; i++) effKernel[i] = (kernel[i] - 1) * dilations[i] + 1;
        boolean dilated = false;
        for (long d : dilations) dilated |= d != 1;
        if (dilated) {
            w = dilateKernel(ctx, w, wShape, dilations);
            wShape = wShape.clone();
            System.arraycopy(effKernel, 0, wShape, 2, sk);
        }
        SDVariable y;
        if (group == 1) {
            y = deconvNd(sd, x, w, effKernel, strides);
        } else {
            SDVariable[] xs = sd.split(x, (int) group, 1);
            SDVariable[] ws = sd.split(w, (int) group, 0);
            List<SDVariable> outs = new ArrayList<>();
            for (int g = 0; g < group; g++) outs.add(deconvNd(sd, xs[g], ws[g], effKernel, strides));
            y = sd.concat(1, outs.toArray(new SDVariable[0]));
        }
        // y has the full size s*(in-1) + effK; the ONNX output is [padBegin, full + outputPadding - padEnd).
        long[] front = new long[sk];
        long[] back = new long[sk];
        long[] cropBegin = new long[sk];
        long[] cropEnd = new long[sk];
        boolean needPad = false;
        for (int i = 0; i < sk; i++) {
            long endOffset = outputPadding[i] - padEnd[i]; // relative to the full end
            front[i] = Math.max(0, -padBegin[i]);
            back[i] = Math.max(0, endOffset);
            needPad |= front[i] > 0 || back[i] > 0;
            cropBegin[i] = Math.max(0, padBegin[i]);
            cropEnd[i] = endOffset < 0 ? endOffset : Long.MAX_VALUE;
        }
        if (needPad) {
            // Output larger than the full result: zeros (plus bias) at the front for negative pads, at the end
            // for output_padding beyond the end pad. A crop from the end only happens when nothing is added there.
            y = padSpatial(ctx, y, front, back, 0);
        }
        boolean crop = false;
        for (int i = 0; i < sk; i++) crop |= cropBegin[i] != 0 || cropEnd[i] != Long.MAX_VALUE;
        if (crop) y = sliceSpatial(sd, y, cropBegin, cropEnd, ones(sk));
        if (b != null) {
            long[] bShape = new long[sk + 2];
            Arrays.fill(bShape, 1);
            bShape[1] = -1;
            y = y.add(sd.reshape(b, bShape));
        }
        if (oneD) y = sd.squeeze(y, 2);
        ctx.setOutput(n, 0, y);
    }

    /**
     * Unpadded transposed convolution of [N, iC, ...] by ONNX weights [iC, oC, k...]. libnd4j wants
     * [kH, kW, oC, iC] (2-D) and [kD, kH, kW, oC, iC] (3-D).
     */
    private static SDVariable deconvNd(SameDiff sd, SDVariable x, SDVariable w, long[] kernel, long[] strides) {
        if (kernel.length == 2) {
            DeConv2DConfig config = DeConv2DConfig.builder()
                    .kH(kernel[0]).kW(kernel[1]).sH(strides[0]).sW(strides[1])
                    .pH(0).pW(0).dH(1).dW(1).isSameMode(false).dataFormat(DeConv2DConfig.NCHW).build();
            return sd.cnn().deconv2d(x, sd.permute(w, 2, 3, 1, 0), config);
        }
        DeConv3DConfig config = DeConv3DConfig.builder()
                .kD(kernel[0]).kH(kernel[1]).kW(kernel[2]).sD(strides[0]).sH(strides[1]).sW(strides[2])
                .pD(0).pH(0).pW(0).dD(1).dH(1).dW(1).isSameMode(false).dataFormat(DeConv3DConfig.NCDHW).build();
        return sd.cnn().deconv3d(x, sd.permute(w, 2, 3, 4, 1, 0), config);
    }

    // ---------------------------------------------------------------- export

    /**
     * The window of a libnd4j convolution or pooling op over k spatial axes, read from its integer arguments,
     * which all these ops lay out alike: kernel, strides, pads, dilations (k each), the padding mode (0 VALID
     * with the given symmetric pads, 1 SAME, 2 CAUSAL), then the data format flag (1 = channels last) at
     * {@code formatIndex}.
     */
    record Spatial(long[] kernel, long[] strides, long[] pads, long[] dilations, int paddingMode, boolean channelsLast) {

        static Spatial of(SameDiffOp op, ExportContext ctx, int k, int formatIndex) {
            long[] a = ExportContext.intArgs(op);
            if (a.length < 4 * k + 1) {
                throw ctx.error(op, "has " + a.length + " integer arguments, expected at least " + (4 * k + 1));
            }
            int mode = (int) a[4 * k];
            if (mode < 0 || mode > 2) throw ctx.error(op, "unknown padding mode " + mode);
            return new Spatial(Arrays.copyOfRange(a, 0, k), Arrays.copyOfRange(a, k, 2 * k),
                    Arrays.copyOfRange(a, 2 * k, 3 * k), Arrays.copyOfRange(a, 3 * k, 4 * k), mode,
                    a.length > formatIndex && a[formatIndex] != 0);
        }

        boolean dilated() {
            for (long d : dilations) if (d != 1) return true;
            return false;
        }

        /**
         * kernel_shape (when the op states it), strides, dilations (when any is not 1) and the padding: explicit
         * symmetric pads for VALID, SAME_UPPER for SAME (libnd4j puts the odd pad cell at the end, as TensorFlow
         * does), all of (k - 1) * d at the front for CAUSAL.
         */
        ExportContext.NodeBuilder apply(ExportContext.NodeBuilder n) {
            return pads(window(n));
        }

        /** kernel_shape (when stated), strides, dilations (when any is not 1). */
        ExportContext.NodeBuilder window(ExportContext.NodeBuilder n) {
            if (Arrays.stream(kernel).allMatch(v -> v > 0)) n.attr("kernel_shape", kernel);
            n.attr("strides", strides);
            if (dilated()) n.attr("dilations", dilations);
            return n;
        }

        ExportContext.NodeBuilder pads(ExportContext.NodeBuilder n) {
            int k = kernel.length;
            if (paddingMode == PaddingMode.SAME.index) return n.attr("auto_pad", "SAME_UPPER");
            long[] p = new long[2 * k];
            for (int i = 0; i < k; i++) {
                p[i] = paddingMode == PaddingMode.CAUSAL.index ? (kernel[i] - 1) * dilations[i] : pads[i];
                p[i + k] = paddingMode == PaddingMode.CAUSAL.index ? 0 : pads[i];
            }
            return Arrays.stream(p).allMatch(v -> v == 0) ? n : n.attr("pads", p);
        }
    }

    /** The permutation taking channels-last [N, spatial..., C] to channels-first [N, C, spatial...]. */
    static long[] toChannelsFirst(int rank) {
        long[] perm = new long[rank];
        perm[1] = rank - 1;
        for (int i = 2; i < rank; i++) perm[i] = i - 1;
        return perm;
    }

    /** The permutation taking channels-first [N, C, spatial...] to channels-last [N, spatial..., C]. */
    static long[] toChannelsLast(int rank) {
        long[] perm = new long[rank];
        for (int i = 1; i < rank - 1; i++) perm[i] = i + 1;
        perm[rank - 1] = 1;
        return perm;
    }

    static String transpose(ExportContext ctx, String x, long[] perm) {
        return ctx.node("Transpose", x).attr("perm", perm).build();
    }

    /**
     * Writes a channels-first ONNX node (Conv, MaxPool, ...) for an op whose data may be channels last: then
     * the input is transposed to channels first and the result back (the exporter's TransposePushPass moves
     * these until the Transpose back meets the next such op's Transpose to channels first, and both go).
     */
    static void channelsFirstNode(ExportContext ctx, SameDiffOp op, Spatial s, String x,
                                  java.util.function.Function<String, ExportContext.NodeBuilder> node) {
        String out = ctx.output(op, 0);
        if (!s.channelsLast()) {
            node.apply(x).to(out);
            return;
        }
        int rank = s.kernel().length + 2;
        String y = node.apply(transpose(ctx, x, toChannelsFirst(rank))).build();
        ctx.node("Transpose", y).attr("perm", toChannelsLast(rank)).to(out);
    }

    /**
     * The permutation taking weights in libnd4j format {@code format} to ONNX's [A, B, k...]: format 0 is
     * [k..., B, A], 1 is [A, B, k...], 2 is [A, k..., B] (for a convolution A is the output and B the input
     * channels; a transposed convolution's libnd4j weights name them the other way round, so the same
     * permutations give ONNX's [in, out, k...]). Null for the identity.
     */
    private static long[] weightPerm(ExportContext ctx, SameDiffOp op, int k, long format) {
        long[] perm = new long[k + 2];
        switch ((int) format) {
            case 0 -> {
                perm[0] = k + 1;
                perm[1] = k;
                for (int i = 0; i < k; i++) perm[i + 2] = i;
            }
            case 1 -> {
                return null;
            }
            case 2 -> {
                perm[1] = k + 1;
                for (int i = 0; i < k; i++) perm[i + 2] = i + 1;
            }
            default -> throw ctx.error(op, "unknown weights format " + format);
        }
        return perm;
    }

    /**
     * conv1d, conv2d, conv3dnew and depthwise_conv2d as one ONNX Conv. The importer turned ONNX's [O, I, k...]
     * weights into libnd4j's [k..., I, O] with a permute; the Transpose back written here cancels it.
     * Depthwise weights [kH, kW, C, m] become ONNX's [C * m, 1, kH, kW] with group C (output channel c * m + j).
     */
    private static void exportConv(SameDiffOp op, ExportContext ctx, int k, boolean depthwise) {
        Spatial s = Spatial.of(op, ctx, k, 4 * k + 1);
        long[] a = ExportContext.intArgs(op);
        long format = a.length > 4 * k + 2 ? a[4 * k + 2] : 0;
        String w = ctx.input(op, 1);
        String b = ctx.inputCount(op) > 2 ? ctx.input(op, 2) : null;
        long group = 1;
        String weights;
        if (depthwise) {
            long[] ws = ctx.probeShape(w);
            if (ws.length != 4) throw ctx.error(op, "depthwise weights of rank " + ws.length + ", expected 4");
            // [C, m, kH, kW] from format 0 [kH, kW, C, m], 1 [m, C, kH, kW], 2 [m, kH, kW, C].
            long[] perm = switch ((int) format) {
                case 0 -> new long[]{2, 3, 0, 1};
                case 1 -> new long[]{1, 0, 2, 3};
                case 2 -> new long[]{3, 0, 1, 2};
                default -> throw ctx.error(op, "unknown weights format " + format);
            };
            long[] cmhw = new long[4];
            for (int i = 0; i < 4; i++) cmhw[i] = ws[(int) perm[i]];
            group = cmhw[0];
            long[] onnxShape = {cmhw[0] * cmhw[1], 1, cmhw[2], cmhw[3]};
            String source = format == 0 ? importedDepthwiseWeights(ctx, w, onnxShape) : null;
            weights = source != null ? source
                    : ctx.node("Reshape", transpose(ctx, w, perm), ctx.longs(onnxShape)).build();
        } else {
            long[] perm = weightPerm(ctx, op, k, format);
            weights = perm == null ? w : transpose(ctx, w, perm);
        }
        long g = group;
        channelsFirstNode(ctx, op, s, ctx.input(op, 0), x -> {
            ExportContext.NodeBuilder n = b == null ? ctx.node("Conv", x, weights) : ctx.node("Conv", x, weights, b);
            if (g != 1) n.attr("group", g);
            return s.apply(n);
        });
    }

    /**
     * The ONNX weights a depthwise convolution was imported from, when {@code w} is still the importer's
     * permute(reshape(onnxWeights)) of them: exporting those directly spares a Reshape of a Reshape.
     */
    private static String importedDepthwiseWeights(ExportContext ctx, String w, long[] onnxShape) {
        SameDiff sd = ctx.sd();
        org.nd4j.autodiff.functions.DifferentialFunction permute = sd.getVariableOutputOp(w);
        if (permute == null || !permute.opName().equals("permute") || permute.args().length != 1
                || !(permute instanceof org.nd4j.linalg.api.ops.CustomOp c)
                || !Arrays.equals(c.iArgs(), new long[]{2, 3, 0, 1})) {
            return null;
        }
        org.nd4j.autodiff.functions.DifferentialFunction reshape = sd.getVariableOutputOp(permute.arg(0).name());
        if (reshape == null || !reshape.opName().equals("reshape")) return null;
        String source = reshape.arg(0).name();
        return Arrays.equals(ctx.probeShape(source), onnxShape) ? source : null;
    }

    /**
     * deconv2d and deconv3d as ConvTranspose. libnd4j's [k..., O, I] weights (format 0) go back to ONNX's
     * [I, O, k...]. SAME makes the output input * stride: libnd4j pads floor((effK - s) / 2) at the front,
     * the rest at the end; a negative total of -1 (stride one more than the kernel) is an output_padding.
     */
    private static void exportDeconv(SameDiffOp op, ExportContext ctx, int k) {
        Spatial s = Spatial.of(op, ctx, k, 4 * k + 1);
        long[] a = ExportContext.intArgs(op);
        long format = a.length > 4 * k + 2 ? a[4 * k + 2] : 0;
        if (s.paddingMode() == PaddingMode.CAUSAL.index) throw ctx.error(op, "causal padding in a transposed convolution");
        long[] perm = weightPerm(ctx, op, k, format);
        String w = ctx.input(op, 1);
        String weights = perm == null ? w : transpose(ctx, w, perm);
        String b = ctx.inputCount(op) > 2 ? ctx.input(op, 2) : null;
        long[] pads = new long[2 * k];
        long[] outputPadding = new long[k];
        boolean same = s.paddingMode() == PaddingMode.SAME.index;
        for (int i = 0; i < k; i++) {
            if (!same) {
                pads[i] = s.pads()[i];
                pads[i + k] = s.pads()[i];
                continue;
            }
            long kernel = s.kernel()[i] > 0 ? s.kernel()[i] : ctx.probeShape(w)[i];
            long total = (kernel - 1) * s.dilations()[i] + 1 - s.strides()[i];
            if (total < -1) throw ctx.error(op, "SAME padding with a stride larger than the kernel plus one");
            pads[i] = total / 2;
            pads[i + k] = Math.max(0, total - total / 2);
            outputPadding[i] = Math.max(0, -total);
        }
        channelsFirstNode(ctx, op, s, ctx.input(op, 0), x -> {
            ExportContext.NodeBuilder n = b == null ? ctx.node("ConvTranspose", x, weights)
                    : ctx.node("ConvTranspose", x, weights, b);
            s.window(n);
            if (Arrays.stream(pads).anyMatch(v -> v != 0)) n.attr("pads", pads);
            if (Arrays.stream(outputPadding).anyMatch(v -> v != 0)) n.attr("output_padding", outputPadding);
            return n;
        });
    }
}
