package dev.graft.tensorflow.ops;

import dev.graft.onnx.ops.ConvOps;
import dev.graft.tensorflow.TfConverterRegistry;
import dev.graft.tensorflow.TfImportContext;
import dev.graft.tensorflow.TfNode;
import dev.graft.tensorflow.TfOpFamily;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.PadMode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.DeConv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Convolutions, pooling, BiasAdd and FusedBatchNorm, in TensorFlow's own layout: SameDiff runs NHWC with
 * HWIO kernels (libnd4j's default weight format, so weights are used as stored), and TensorFlow's SAME
 * padding is libnd4j's SAME. The ONNX exporter turns these into NCHW ops and pushes the transposes away.
 */
public final class TfNnOps implements TfOpFamily {

    @Override
    public void register(TfConverterRegistry.Builder r) {
        r.importer("Conv2D", (n, ctx) -> conv(n, ctx, false));
        r.importer("DepthwiseConv2dNative", (n, ctx) -> conv(n, ctx, true));
        r.importer("Conv2DBackpropInput", TfNnOps::deconv);
        r.importer("BiasAdd", TfNnOps::biasAdd);
        r.importer("BiasAddV1", TfNnOps::biasAdd);
        r.importer("FusedBatchNorm", TfNnOps::fusedBatchNorm);
        r.importer("FusedBatchNormV2", TfNnOps::fusedBatchNorm);
        r.importer("FusedBatchNormV3", TfNnOps::fusedBatchNorm);
        r.importer("MaxPool", (n, ctx) -> pool(n, ctx, true));
        r.importer("AvgPool", (n, ctx) -> pool(n, ctx, false));
        // tf.nn.maxPool in TensorFlow 2 / TensorFlow Java writes MaxPoolV2: ksize and strides are inputs.
        r.importer("MaxPoolV2", (n, ctx) -> pool(n, ctx, true));
    }

    /** The two spatial entries of a 4-long NHWC/NCHW attribute (strides, dilations, ksize). */
    private static long[] spatial(TfNode n, String attr, boolean nhwc, long fallback) {
        long[] v = n.getInts(attr);
        if (v == null || v.length == 0) return new long[]{fallback, fallback};
        if (v.length != 4) throw n.error("attribute '" + attr + "' has " + v.length + " entries, expected 4");
        long batch = v[0];
        long channel = nhwc ? v[3] : v[1];
        if ((batch != 1 || channel != 1) && !attr.equals("ksize")) {
            throw n.error("attribute '" + attr + "' " + java.util.Arrays.toString(v) + " steps over the batch or channel axis");
        }
        return nhwc ? new long[]{v[1], v[2]} : new long[]{v[2], v[3]};
    }

    private record Padding(boolean same, SDVariable input) {
    }

    /** SAME and VALID map to libnd4j's modes; EXPLICIT paddings are applied by a Pad first. */
    private static Padding padding(TfNode n, TfImportContext ctx, SDVariable x) {
        String p = n.getString("padding", "VALID");
        switch (p) {
            case "SAME":
                return new Padding(true, x);
            case "VALID":
                return new Padding(false, x);
            case "EXPLICIT": {
                long[] e = n.requireInts("explicit_paddings");
                if (e.length != 8) throw n.error("explicit_paddings has " + e.length + " entries, expected 8");
                long[][] pads = new long[4][2];
                for (int i = 0; i < 4; i++) {
                    pads[i][0] = e[2 * i];
                    pads[i][1] = e[2 * i + 1];
                }
                SameDiff sd = ctx.sd();
                return new Padding(false, sd.nn().pad(x, sd.constant(Nd4j.createFromArray(pads).castTo(DataType.INT)), PadMode.CONSTANT, 0));
            }
            default:
                throw n.error("padding '" + p + "' is not supported (SAME, VALID, EXPLICIT are)");
        }
    }

    private static void conv(TfNode n, TfImportContext ctx, boolean depthwise) {
        boolean nhwc = n.channelsLast();
        long[] w = ctx.inputShape(n, 1);
        if (w.length != 4 || w[0] < 0 || w[1] < 0) throw n.error("filter of shape " + java.util.Arrays.toString(w) + ", expected a known [kH, kW, in, out]");
        if (ctx.inputRank(n, 0) != 4) throw n.error("input of rank " + ctx.inputRank(n, 0) + ", expected 4");
        long[] s = spatial(n, "strides", nhwc, 1);
        long[] d = spatial(n, "dilations", nhwc, 1);
        Padding p = padding(n, ctx, ctx.input(n, 0));
        SDVariable kernel = ctx.input(n, 1);
        if (d[0] != 1 || d[1] != 1) {
            // libnd4j's oneDNN path rejects dilated convolutions: the taps are spread out in the kernel instead
            // (zeros between them), which is the same convolution and keeps the weights trainable.
            kernel = ConvOps.dilateKernel(ctx.sd(), kernel, w, d, 0);
            w = new long[]{(w[0] - 1) * d[0] + 1, (w[1] - 1) * d[1] + 1, w[2], w[3]};
            d = new long[]{1, 1};
        }
        Conv2DConfig config = Conv2DConfig.builder()
                .kH(w[0]).kW(w[1]).sH(s[0]).sW(s[1]).dH(d[0]).dW(d[1])
                .paddingMode(p.same() ? PaddingMode.SAME : PaddingMode.VALID)
                .dataFormat(nhwc ? Conv2DConfig.NHWC : Conv2DConfig.NCHW)
                .build();
        SameDiff sd = ctx.sd();
        SDVariable y = depthwise ? sd.cnn().depthWiseConv2d(p.input(), kernel, config)
                : sd.cnn().conv2d(p.input(), kernel, config);
        ctx.setOutput(n, 0, y);
    }

    /**
     * Conv2DBackpropInput (the transposed convolution of tf.nn.conv2d_transpose): input 0 is the output size,
     * the filter [kH, kW, out, in] is libnd4j's deconv2d format as stored. libnd4j computes the output size
     * itself; graft checks it equals the requested one.
     */
    private static void deconv(TfNode n, TfImportContext ctx) {
        boolean nhwc = n.channelsLast();
        long[] size = ctx.constantLongs(n, 0, "input_sizes");
        long[] w = ctx.inputShape(n, 1);
        long[] x = ctx.inputShape(n, 2);
        if (w.length != 4 || size.length != 4 || x.length != 4) throw n.error("expects 4-D sizes, filter and input");
        long[] s = spatial(n, "strides", nhwc, 1);
        long[] d = spatial(n, "dilations", nhwc, 1);
        String padding = n.getString("padding", "VALID");
        n.unsupportedIf(!padding.equals("SAME") && !padding.equals("VALID"), "padding " + padding);
        boolean same = padding.equals("SAME");
        for (int i = 0; i < 2; i++) {
            long in = x[nhwc ? i + 1 : i + 2];
            long want = size[nhwc ? i + 1 : i + 2];
            long effK = (w[i] - 1) * d[i] + 1;
            long made = same ? in * s[i] : (in - 1) * s[i] + effK;
            if (in >= 0 && made != want) {
                throw n.error("output size " + want + " on spatial axis " + i + " differs from the " + made
                        + " a " + padding + " transposed convolution gives; such output sizes are not supported");
            }
        }
        DeConv2DConfig config = DeConv2DConfig.builder()
                .kH(w[0]).kW(w[1]).sH(s[0]).sW(s[1]).dH(d[0]).dW(d[1]).pH(0).pW(0)
                .isSameMode(same).dataFormat(nhwc ? DeConv2DConfig.NHWC : DeConv2DConfig.NCHW).build();
        ctx.setOutput(n, 0, ctx.sd().cnn().deconv2d(ctx.input(n, 2), ctx.input(n, 1), config));
    }

    private static void biasAdd(TfNode n, TfImportContext ctx) {
        boolean nhwc = !n.op().equals("BiasAdd") || n.channelsLast();
        int rank = ctx.inputRank(n, 0);
        // For rank 2 both layouts put the channels last; libnd4j's NCHW flag means axis 1, the same axis.
        ctx.setOutput(n, 0, ctx.sd().nn().biasAdd(ctx.input(n, 0), ctx.input(n, 1), !nhwc && rank > 2));
    }

    /**
     * Inference form (is_training=false) as one scale and one shift per channel, x * a + b with
     * a = scale / sqrt(var + eps), b = offset - mean * a: written out because SameDiff's batchnorm gradient
     * cannot be built in ND4J 1.0.0-M2.1, and every term stays differentiable for fine-tuning. The training
     * form normalises with the batch's own statistics (biased variance), as TensorFlow does.
     */
    private static void fusedBatchNorm(TfNode n, TfImportContext ctx) {
        boolean nhwc = n.channelsLast();
        int rank = ctx.inputRank(n, 0);
        if (rank != 4) throw n.error("input of rank " + rank + ", expected 4");
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        SDVariable scale = ctx.input(n, 1);
        SDVariable offset = ctx.input(n, 2);
        double eps = n.getFloat("epsilon", 1e-4f);
        boolean training = n.getBool("is_training", true);
        SDVariable mean;
        SDVariable var;
        if (training) {
            int[] axes = nhwc ? new int[]{0, 1, 2} : new int[]{0, 2, 3};
            mean = sd.mean(x, axes);
            var = sd.variance(x, false, axes);
        } else {
            mean = ctx.input(n, 3);
            var = ctx.input(n, 4);
        }
        SDVariable a = sd.math().rsqrt(var.add(eps)).mul(scale);
        SDVariable b = offset.sub(mean.mul(a));
        if (!nhwc) {
            a = sd.reshape(a, -1, 1, 1);
            b = sd.reshape(b, -1, 1, 1);
        }
        ctx.setOutput(n, 0, dev.graft.onnx.ops.NormalizationOps.scaleShift(x, a, b));
        if (!training) {
            ctx.setOutput(n, 1, mean);
            ctx.setOutput(n, 2, var);
        }
    }

    private static void pool(TfNode n, TfImportContext ctx, boolean max) {
        boolean nhwc = n.channelsLast();
        if (ctx.inputRank(n, 0) != 4) throw n.error("input of rank " + ctx.inputRank(n, 0) + ", expected 4");
        boolean v2 = n.op().equals("MaxPoolV2");
        long[] kAll = v2 ? ctx.constantLongs(n, 1, "ksize") : n.requireInts("ksize");
        long[] sAll = v2 ? ctx.constantLongs(n, 2, "strides") : n.getInts("strides");
        if (kAll.length != 4 || sAll == null || sAll.length != 4) throw n.error("ksize and strides need 4 entries");
        if (kAll[0] != 1 || (nhwc ? kAll[3] : kAll[1]) != 1 || sAll[0] != 1 || (nhwc ? sAll[3] : sAll[1]) != 1) {
            throw n.error("pooling over the batch or channel axis is not supported");
        }
        long[] k = nhwc ? new long[]{kAll[1], kAll[2]} : new long[]{kAll[2], kAll[3]};
        long[] s = nhwc ? new long[]{sAll[1], sAll[2]} : new long[]{sAll[2], sAll[3]};
        String padding = n.getString("padding", "VALID");
        n.unsupportedIf(!padding.equals("SAME") && !padding.equals("VALID"), "padding " + padding);
        // TensorFlow's average pooling never counts padding.
        Pooling2DConfig config = Pooling2DConfig.builder()
                .kH(k[0]).kW(k[1]).sH(s[0]).sW(s[1]).dH(1).dW(1)
                .paddingMode(padding.equals("SAME") ? PaddingMode.SAME : PaddingMode.VALID)
                .type(max ? Pooling2D.Pooling2DType.MAX : Pooling2D.Pooling2DType.AVG)
                .divisor(Pooling2D.Divisor.EXCLUDE_PADDING)
                .isNHWC(nhwc)
                .build();
        SameDiff sd = ctx.sd();
        ctx.setOutput(n, 0, max ? sd.cnn().maxPooling2d(ctx.input(n, 0), config) : sd.cnn().avgPooling2d(ctx.input(n, 0), config));
    }
}
