package dev.graft.tensorflow.ops;

import dev.graft.tensorflow.TfConverterRegistry;
import dev.graft.tensorflow.TfImportContext;
import dev.graft.tensorflow.TfNode;
import dev.graft.tensorflow.TfOpFamily;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ops.impl.image.ResizeBilinear;
import dev.graft.onnx.ops.GatherOps;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ResizeBilinear and ResizeNearestNeighbor on NHWC images. Bilinear is libnd4j's resize_bilinear, written
 * after TensorFlow's with the same align_corners / half_pixel_centers flags. Nearest neighbour picks source
 * rows and columns with TensorFlow's index rule, as one-hot products (a lookup that trains and exports).
 */
public final class TfImageOps implements TfOpFamily {

    @Override
    public void register(TfConverterRegistry.Builder r) {
        r.importer("ResizeBilinear", (n, ctx) -> resize(n, ctx, true));
        r.importer("ResizeNearestNeighbor", (n, ctx) -> resize(n, ctx, false));
    }

    private static void resize(TfNode n, TfImportContext ctx, boolean bilinear) {
        if (ctx.inputRank(n, 0) != 4) throw n.error("images of rank " + ctx.inputRank(n, 0) + ", expected 4 (NHWC)");
        long[] size = ctx.constantLongs(n, 1, "size");
        if (size.length != 2) throw n.error("size must hold 2 values, has " + size.length);
        boolean align = n.getBool("align_corners", false);
        boolean half = n.getBool("half_pixel_centers", false);
        SDVariable x = ctx.input(n, 0);
        if (bilinear) {
            ctx.setOutput(n, 0, new ResizeBilinear(ctx.sd(), x, (int) size[0], (int) size[1], align, half).outputVariable());
            return;
        }
        long[] in = ctx.inputShape(n, 0);
        if (in[1] < 0 || in[2] < 0) throw n.error("nearest-neighbour resize of images of unknown height or width");
        SDVariable y = x;
        for (int axis = 1; axis <= 2; axis++) {
            long[] idx = nearestIndices(in[axis], size[axis - 1], align, half);
            y = GatherOps.gatherByOneHot(ctx.sd(), y, ctx.constant(Nd4j.createFromArray(idx)), axis, 4, in[axis], 1);
        }
        ctx.setOutput(n, 0, y);
    }

    /** TensorFlow's source index for each output position (resize_nearest_neighbor_op.cc). */
    static long[] nearestIndices(long in, long out, boolean alignCorners, boolean halfPixelCenters) {
        double scale = alignCorners && out > 1 ? (in - 1) / (double) (out - 1) : in / (double) out;
        long[] idx = new long[(int) out];
        for (int i = 0; i < out; i++) {
            float src = halfPixelCenters ? (float) ((i + 0.5f) * (float) scale) : (float) (i * (float) scale);
            long v = alignCorners ? Math.round(src) : (long) Math.floor(src);
            idx[i] = Math.min(v, in - 1);
        }
        return idx;
    }
}
