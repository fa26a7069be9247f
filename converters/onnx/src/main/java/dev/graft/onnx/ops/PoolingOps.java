package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;

/** MaxPool, AveragePool (2-D, NCHW) and the global poolings (any rank). */
public final class PoolingOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("MaxPool", 1, (n, ctx) -> pool(n, ctx, true));
        r.importer("AveragePool", 1, (n, ctx) -> pool(n, ctx, false));
        r.importer("GlobalAveragePool", 1, (n, ctx) -> ctx.setOutput(n, 0,
                ctx.sd().mean(ctx.input(n, 0), true, spatialAxes(ctx.inputRank(n, 0)))));
        r.importer("GlobalMaxPool", 1, (n, ctx) -> ctx.setOutput(n, 0,
                ctx.sd().max(ctx.input(n, 0), true, spatialAxes(ctx.inputRank(n, 0)))));
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
        if (kernel.length != 2) throw n.error(kernel.length + "-D pooling is not supported (2-D is)");
        n.unsupportedIf(n.getLong("ceil_mode", 0) != 0, "ceil_mode=1");
        n.unsupportedIf(max && n.hasOutput(1), "MaxPool's Indices output");
        ConvOps.Window win = ConvOps.Window.of(n, kernel)
                .resolved(n, java.util.Arrays.copyOfRange(xShape, 2, xShape.length));
        boolean countIncludePad = n.getLong("count_include_pad", 0) != 0;
        long pH = win.padBegin()[0];
        long pW = win.padBegin()[1];
        boolean explicitPad = !win.symmetric() || (!max && countIncludePad && (pH > 0 || pW > 0));
        if (explicitPad) {
            x = ConvOps.padSpatial(ctx, x, win.padBegin(), win.padEnd(), max ? Double.NEGATIVE_INFINITY : 0);
            pH = 0;
            pW = 0;
        }
        Pooling2DConfig config = Pooling2DConfig.builder()
                .kH(kernel[0]).kW(kernel[1])
                .sH(win.strides()[0]).sW(win.strides()[1])
                .pH(pH).pW(pW)
                .dH(win.dilations()[0]).dW(win.dilations()[1])
                .paddingMode(PaddingMode.VALID)
                .type(max ? org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D.Pooling2DType.MAX : org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D.Pooling2DType.AVG)
                .divisor(countIncludePad ? org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D.Divisor.INCLUDE_PADDING : org.nd4j.linalg.api.ops.impl.layers.convolution.Pooling2D.Divisor.EXCLUDE_PADDING)
                .isNHWC(false)
                .build();
        ctx.setOutput(n, 0, max ? sd.cnn().maxPooling2d(x, config) : sd.cnn().avgPooling2d(x, config));
    }
}
