package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;

/**
 * Convolutions (NCHW). 1-D convolutions run as 2-D ones over a height of 1. Asymmetric or explicit pads
 * become a Pad op in front; groups run as depthwise convolution when each group has one input channel,
 * else as one convolution per group.
 */
public final class ConvOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("Conv", 1, ConvOps::conv);
    }

    /** Spatial attributes of a convolution or pooling node, resolved against the kernel size. */
    record Window(long[] kernel, long[] strides, long[] dilations, long[] padBegin, long[] padEnd, String autoPad) {

        static Window of(OnnxNode n, long[] kernel) {
            int k = kernel.length;
            long[] strides = n.getLongs("strides", ones(k));
            long[] dilations = n.getLongs("dilations", ones(k));
            long[] pads = n.getLongs("pads", new long[2 * k]);
            if (pads.length != 2 * k) throw n.error("pads has " + pads.length + " entries, expected " + 2 * k);
            long[] begin = new long[k];
            long[] end = new long[k];
            for (int i = 0; i < k; i++) {
                begin[i] = pads[i];
                end[i] = pads[i + k];
            }
            return new Window(kernel, strides, dilations, begin, end, n.getString("auto_pad", "NOTSET"));
        }

        boolean symmetric() {
            for (int i = 0; i < padBegin.length; i++) if (padBegin[i] != padEnd[i]) return false;
            return true;
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
                long effK = (kernel[i] - 1) * dilations[i] + 1;
                long total = Math.max(0, (out - 1) * strides[i] + effK - spatial[i]);
                long small = total / 2;
                long big = total - small;
                b[i] = autoPad.equals("SAME_LOWER") ? big : small;
                e[i] = autoPad.equals("SAME_LOWER") ? small : big;
            }
            return new Window(kernel, strides, dilations, b, e, "NOTSET");
        }
    }

    static long[] ones(int k) {
        long[] a = new long[k];
        java.util.Arrays.fill(a, 1);
        return a;
    }

    /** Pads NC... input explicitly with a constant (zero, or -inf for max pooling). */
    static SDVariable padSpatial(ImportContext ctx, SDVariable x, long[] begin, long[] end, double value) {
        int k = begin.length;
        long[][] p = new long[k + 2][2];
        for (int i = 0; i < k; i++) {
            p[i + 2][0] = begin[i];
            p[i + 2][1] = end[i];
        }
        SDVariable pads = ctx.constant(org.nd4j.linalg.factory.Nd4j.createFromArray(p).castTo(org.nd4j.linalg.api.buffer.DataType.INT));
        return ctx.sd().nn().pad(x, pads, value);
    }

    private static void conv(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        SDVariable w = ctx.input(n, 1);
        SDVariable b = ctx.optionalInput(n, 2);
        long[] wShape = ctx.inputShape(n, 1);
        long[] xShape = ctx.inputShape(n, 0);
        int spatialRank = wShape.length - 2;
        if (spatialRank < 1 || spatialRank > 2) {
            throw n.error(spatialRank + "-D convolution is not supported (1-D and 2-D are)");
        }
        long[] kernel = n.getLongs("kernel_shape", java.util.Arrays.copyOfRange(wShape, 2, wShape.length));
        long[] spatial = java.util.Arrays.copyOfRange(xShape, 2, xShape.length);
        Window win = Window.of(n, kernel).resolved(n, spatial);
        long group = n.getLong("group", 1);
        boolean oneD = spatialRank == 1;
        if (oneD) {
            x = sd.expandDims(x, 2);
            w = sd.expandDims(w, 2);
            win = new Window(new long[]{1, kernel[0]}, new long[]{1, win.strides[0]}, new long[]{1, win.dilations[0]},
                    new long[]{0, win.padBegin[0]}, new long[]{0, win.padEnd[0]}, "NOTSET");
        }
        long pH = win.padBegin[0];
        long pW = win.padBegin[1];
        if (!win.symmetric()) {
            x = padSpatial(ctx, x, win.padBegin, win.padEnd, 0);
            pH = 0;
            pW = 0;
        }
        Conv2DConfig config = Conv2DConfig.builder()
                .kH(win.kernel[0]).kW(win.kernel[1])
                .sH(win.strides[0]).sW(win.strides[1])
                .pH(pH).pW(pW)
                .dH(win.dilations[0]).dW(win.dilations[1])
                .paddingMode(PaddingMode.VALID)
                .dataFormat(Conv2DConfig.NCHW)
                .weightsFormat(WeightsFormat.OIYX)
                .build();
        SDVariable y;
        if (group == 1) {
            y = sd.cnn().conv2d(x, w, b, config);
        } else {
            y = groupedConv(ctx, x, w, b, config, (int) group, wShape);
        }
        if (oneD) {
            y = sd.squeeze(y, 2);
        }
        ctx.setOutput(n, 0, y);
    }

    private static SDVariable groupedConv(ImportContext ctx, SDVariable x, SDVariable w, SDVariable b,
                                          Conv2DConfig config, int group, long[] wShape) {
        SameDiff sd = ctx.sd();
        SDVariable[] xs = sd.split(x, group, 1);
        SDVariable[] ws = sd.split(w, group, 0);
        SDVariable[] bs = b == null ? null : sd.split(b, group, 0);
        List<SDVariable> outs = new ArrayList<>();
        for (int g = 0; g < group; g++) {
            outs.add(sd.cnn().conv2d(xs[g], ws[g], bs == null ? null : bs[g], config));
        }
        return sd.concat(1, outs.toArray(new SDVariable[0]));
    }
}
