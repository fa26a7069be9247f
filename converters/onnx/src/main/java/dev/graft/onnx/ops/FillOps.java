package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.OnnxTensors;
import dev.graft.onnx.ops.IndexOperands.RuntimeInts;
import java.util.Arrays;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Ops that create or repeat elements: Expand, Tile, ConstantOfShape, Range. Sizes known at import time are
 * checked before anything is allocated, so a hostile shape is refused by name instead of crashing ND4J.
 */
public final class FillOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("Expand", 8, FillOps::expand);
        r.importer("Tile", 6, FillOps::tile);
        r.importer("ConstantOfShape", 9, FillOps::constantOfShape);
        r.importer("Range", 11, FillOps::range);

        r.exporter("tile", FillOps::exportTile);
        r.exporter("broadcast_to", (op, ctx) -> ctx.node("Expand", ctx.input(op, 0),
                ShapeOps.int64(ctx, ctx.input(op, 1))).to(ctx.output(op, 0)));
        r.exporter("fill", FillOps::exportFill);
        r.exporter("range", FillOps::exportRange);
        r.exporter("zeroslike", (op, ctx) -> exportFilledLike(op, ctx, 0));
        r.exporter("ones_as", (op, ctx) -> exportFilledLike(op, ctx, 1));
    }

    // ---------------------------------------------------------------- export

    /** The repeats are the integer arguments or the second input. */
    private static void exportTile(SameDiffOp op, ExportContext ctx) {
        String reps = ctx.inputCount(op) > 1 ? ShapeOps.int64(ctx, ctx.input(op, 1)) : ctx.longs(ExportContext.intArgs(op));
        ctx.node("Tile", ctx.input(op, 0), reps).to(ctx.output(op, 0));
    }

    /** fill(shape, value): ConstantOfShape, or Expand when the value is computed at run time. */
    private static void exportFill(SameDiffOp op, ExportContext ctx) {
        String out = ctx.output(op, 0);
        DataType type = ctx.dataType(out);
        String shape = ShapeOps.int64(ctx, ctx.input(op, 0));
        double value;
        if (ctx.inputCount(op) > 1) {
            String v = ctx.input(op, 1);
            if (!ctx.isConstant(v)) {
                String typed = ctx.dataType(v) == type ? v : ctx.node("Cast", v).attr("to", (long) OnnxTensors.toOnnx(type)).build();
                ctx.node("Expand", typed, shape).to(out);
                return;
            }
            value = ctx.constantValue(v).getDouble(0);
        } else {
            double[] t = ExportContext.floatArgs(op);
            value = t.length > 0 ? t[0] : 0;
        }
        ctx.node("ConstantOfShape", shape).attr("value", ShapeOps.valueTensor(type, value)).to(out);
    }

    /** range(start, limit, delta) as ONNX Range, whose three scalars have the output's type. */
    private static void exportRange(SameDiffOp op, ExportContext ctx) {
        String out = ctx.output(op, 0);
        DataType type = ctx.dataType(out);
        String[] in = new String[3];
        if (ctx.inputCount(op) == 3) {
            for (int i = 0; i < 3; i++) {
                String v = ctx.input(op, i);
                if (ctx.isConstant(v)) {
                    in[i] = ctx.constant(Nd4j.scalar(ctx.constantValue(v).getDouble(0)).castTo(type));
                    continue;
                }
                boolean scalar = ctx.rank(v) == 0;
                if (ctx.dataType(v) != type) v = ctx.node("Cast", v).attr("to", (long) OnnxTensors.toOnnx(type)).build();
                if (!scalar) v = ctx.node("Reshape", v, ctx.longs()).build();
                in[i] = v;
            }
        } else {
            double[] t = ExportContext.floatArgs(op);
            if (t.length != 3) throw ctx.error(op, "expects start, limit and delta, found " + Arrays.toString(t));
            for (int i = 0; i < 3; i++) in[i] = ctx.scalar(type, t[i]);
        }
        ctx.node("Range", in).to(out);
    }

    /** zeros_like / ones_like: ConstantOfShape of the input's shape, in the output's type. */
    private static void exportFilledLike(SameDiffOp op, ExportContext ctx, double value) {
        String out = ctx.output(op, 0);
        String shape = ctx.node("Shape", ctx.input(op, 0)).build();
        ctx.node("ConstantOfShape", shape).attr("value", ShapeOps.valueTensor(ctx.dataType(out), value)).to(out);
    }

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
}
