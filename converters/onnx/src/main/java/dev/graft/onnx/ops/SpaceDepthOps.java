package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.ops.IndexOperands.RuntimeInts;
import java.util.Arrays;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** DepthToSpace (DCR and CRD) and SpaceToDepth, as reshape and transpose. */
public final class SpaceDepthOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("DepthToSpace", 1, (n, ctx) -> depthToSpace(n, ctx, "DCR"));
        r.importer("DepthToSpace", 11, (n, ctx) -> depthToSpace(n, ctx, n.getString("mode", "DCR")));
        r.importer("SpaceToDepth", 1, SpaceDepthOps::spaceToDepth);
    }

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
            tmp = sd.reshape(x, IndexOperands.shapeOf(sd, d.n, b, b, c, d.h, d.w));
            tmp = sd.permute(tmp, 0, 3, 4, 1, 5, 2);
        } else {
            tmp = sd.reshape(x, IndexOperands.shapeOf(sd, d.n, c, b, b, d.h, d.w));
            tmp = sd.permute(tmp, 0, 1, 4, 2, 5, 3);
        }
        ctx.setOutput(n, 0, sd.reshape(tmp, IndexOperands.shapeOf(sd, d.n, c, d.h.mul(b), d.w.mul(b))));
    }

    private static void spaceToDepth(OnnxNode n, ImportContext ctx) {
        long bs = n.requireInt("blocksize");
        SDVariable x = ctx.input(n, 0);
        if (ctx.inputRank(n, 0) != 4) throw n.error("input must be 4-D (NCHW)");
        RuntimeInts ri = new RuntimeInts(ctx);
        Dims4 d = Dims4.of(ctx, n, ri, x);
        SDVariable b = ri.c(bs);
        SameDiff sd = ctx.sd();
        SDVariable tmp = sd.reshape(x, IndexOperands.shapeOf(sd, d.n, d.c, d.h.div(b), b, d.w.div(b), b));
        tmp = sd.permute(tmp, 0, 3, 5, 1, 2, 4);
        ctx.setOutput(n, 0, sd.reshape(tmp, IndexOperands.shapeOf(sd, d.n, d.c.mul(ri.c(bs * bs)), d.h.div(b), d.w.div(b))));
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

}
