package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.OnnxTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.random.custom.DistributionUniform;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Ops that move data without computing on it: Reshape, Flatten, Shape, Size, Transpose, Squeeze,
 * Unsqueeze, Concat, Identity, Constant, Cast, Dropout (inference: identity). Dynamic dimensions stay
 * dynamic: when a target shape depends on the input, it is computed in the graph from {@code shape(x)}.
 */
public final class ShapeOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("Identity", 1, (n, ctx) -> ctx.setOutput(n, 0, ctx.input(n, 0)));
        r.importer("Dropout", 1, ShapeOps::dropout);
        r.importer("Constant", 1, ShapeOps::constant);
        r.importer("Cast", 6, (n, ctx) -> {
            DataType to = OnnxTensors.toNd4j(n.requireInt("to"), n.describe() + " attribute 'to'");
            ctx.setOutput(n, 0, ctx.input(n, 0).castTo(to));
        });
        r.importer("Shape", 1, ShapeOps::shape);
        r.importer("Size", 1, (n, ctx) -> {
            long[] s = ctx.inputShape(n, 0);
            if (Arrays.stream(s).allMatch(d -> d >= 0)) {
                ctx.setConstantOutput(n, 0, Nd4j.scalar(DataType.LONG, Arrays.stream(s).reduce(1, (a, b) -> a * b)));
            } else {
                ctx.setOutput(n, 0, ctx.sd().size(ctx.input(n, 0)).castTo(DataType.LONG));
            }
        });
        r.importer("Reshape", 5, ShapeOps::reshape);
        r.importer("Flatten", 1, (n, ctx) -> {
            int rank = ctx.inputRank(n, 0);
            long axis = n.getLong("axis", 1);
            int a = axis == rank ? rank : ImportContext.axis(n, axis, rank);
            ctx.setOutput(n, 0, flatten2d(ctx, n.input(0), a, rank));
        });
        r.importer("Transpose", 1, (n, ctx) -> {
            int rank = ctx.inputRank(n, 0);
            int[] perm = n.getInts("perm", null);
            if (perm == null) {
                perm = new int[rank];
                for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
            }
            // libnd4j runs some invalid permutations without complaint: check it is one of 0..rank-1.
            boolean[] seen = new boolean[rank];
            for (int p : perm) {
                if (perm.length != rank || p < 0 || p >= rank || seen[p]) {
                    throw n.error("perm " + java.util.Arrays.toString(perm) + " is not a permutation of the "
                            + rank + " axes of input '" + n.input(0) + "'");
                }
                seen[p] = true;
            }
            ctx.setOutput(n, 0, ctx.sd().permute(ctx.input(n, 0), perm));
        });
        r.importer("Concat", 4, (n, ctx) -> {
            List<SDVariable> xs = ctx.inputs(n);
            int axis = ImportContext.axis(n, n.getLong("axis", 0), ctx.inputRank(n, 0));
            ctx.setOutput(n, 0, xs.size() == 1 ? ctx.sd().identity(xs.get(0))
                    : ctx.sd().concat(axis, xs.toArray(new SDVariable[0])));
        });
        r.importer("Unsqueeze", 1, (n, ctx) -> unsqueeze(n, ctx, n.getLongs("axes")));
        r.importer("Unsqueeze", 13, (n, ctx) -> {
            if (n.hasInput(1) && !ctx.isStaticInput(n, 1)) unsqueezeRuntime(n, ctx);
            else unsqueeze(n, ctx, ctx.optionalLongs(n, 1, "axes"));
        });
        r.importer("Squeeze", 1, (n, ctx) -> squeeze(n, ctx, n.getLongs("axes")));
        r.importer("Squeeze", 13, (n, ctx) -> {
            if (n.hasInput(1) && !ctx.isStaticInput(n, 1)) squeezeRuntime(n, ctx);
            else squeeze(n, ctx, ctx.optionalLongs(n, 1, "axes"));
        });

        r.exporter("reshape", ShapeOps::exportReshape);
        r.exporter("permute", ShapeOps::exportPermute);
        r.exporter("squeeze", ShapeOps::exportSqueeze);
        r.exporter("expand_dims", ShapeOps::exportExpandDims);
        r.exporter("concat", ShapeOps::exportConcat);
        r.exporter("shape_of", ShapeOps::exportShapeOf);
        r.exporter("size_at", ShapeOps::exportSizeAt);
        r.exporter("randomuniform", ShapeOps::exportRandomUniform);
    }

    // ---------------------------------------------------------------- export

    /**
     * SameDiff reshape: the target shape is the second input or the integer arguments (after a leading
     * order marker). -1 is inferred in both; a 0 is a zero-size dimension in SameDiff but "copy the input
     * dimension" in ONNX unless allowzero (opset 14), so a constant target with a 0, or one computed at run
     * time, sets allowzero.
     */
    private static void exportReshape(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        String out = ctx.output(op, 0);
        String shape;
        long[] target;
        if (ctx.inputCount(op) > 1) {
            shape = ctx.input(op, 1);
            target = ctx.constantLongs(shape);
        } else {
            long[] args = ExportContext.intArgs(op);
            int rank = ctx.rank(out);
            if (args.length < rank) throw ctx.error(op, "has no target shape (" + Arrays.toString(args) + ")");
            target = Arrays.copyOfRange(args, args.length - rank, args.length);
            shape = null;
        }
        if (target == null) {
            // Computed at run time: any 0 in it is SameDiff's literal zero (allowzero; opset 13 cannot say it).
            ExportContext.NodeBuilder b = ctx.node("Reshape", x, int64(ctx, shape));
            if (ctx.opset() >= 14) b.attr("allowzero", 1L);
            b.to(out);
            return;
        }
        boolean zero = Arrays.stream(target).anyMatch(v -> v == 0);
        shape = ctx.longs(target);
        if (!zero) {
            ctx.node("Reshape", x, shape).to(out);
        } else if (ctx.opset() >= 14 && Arrays.stream(target).noneMatch(v -> v == -1)) {
            ctx.node("Reshape", x, shape).attr("allowzero", 1L).to(out);
        } else {
            // Opset 13 cannot say "zero" in Reshape: the result is empty, so it is made from its shape.
            if (Arrays.stream(target).anyMatch(v -> v == -1)) {
                throw ctx.error(op, "target shape " + Arrays.toString(target) + " has both 0 and -1");
            }
            ctx.node("ConstantOfShape", shape).attr("value", zeroTensor(ctx.dataType(out))).to(out);
        }
    }

    private static void exportPermute(SameDiffOp op, ExportContext ctx) {
        long[] perm = ctx.inputCount(op) > 1 ? constantArg(op, ctx, 1, "permutation") : ExportContext.intArgs(op);
        ctx.node("Transpose", ctx.input(op, 0)).attr("perm", perm).to(ctx.output(op, 0));
    }

    /** No axes squeezes every size-1 dimension, in SameDiff as in ONNX. */
    private static void exportSqueeze(SameDiffOp op, ExportContext ctx) {
        long[] axes = ctx.inputCount(op) > 1 ? constantArg(op, ctx, 1, "axes") : ExportContext.intArgs(op);
        if (axes.length == 0) {
            ctx.node("Squeeze", ctx.input(op, 0)).to(ctx.output(op, 0));
        } else {
            ctx.node("Squeeze", ctx.input(op, 0), ctx.longs(axes)).to(ctx.output(op, 0));
        }
    }

    /** A negative axis counts from the end of the output, in SameDiff as in ONNX. */
    private static void exportExpandDims(SameDiffOp op, ExportContext ctx) {
        long[] axis = ctx.inputCount(op) > 1 ? constantArg(op, ctx, 1, "axis") : ExportContext.intArgs(op);
        if (axis.length != 1) throw ctx.error(op, "expects one axis, found " + Arrays.toString(axis));
        ctx.node("Unsqueeze", ctx.input(op, 0), ctx.longs(axis)).to(ctx.output(op, 0));
    }

    /** The axis is an integer argument, or (TensorFlow style, flagged by a boolean argument) the last input. */
    private static void exportConcat(SameDiffOp op, ExportContext ctx) {
        List<String> in = ctx.inputs(op);
        boolean[] b = ExportContext.boolArgs(op);
        long axis;
        if (b.length > 0 && b[0]) {
            axis = constantArg(op, ctx, in.size() - 1, "axis")[0];
            in = in.subList(0, in.size() - 1);
        } else {
            long[] a = ExportContext.intArgs(op);
            if (a.length != 1) throw ctx.error(op, "expects one axis, found " + Arrays.toString(a));
            axis = a[0];
        }
        ctx.node("Concat", in).attr("axis", axis).to(ctx.output(op, 0));
    }

    private static void exportShapeOf(SameDiffOp op, ExportContext ctx) {
        String out = ctx.output(op, 0);
        toOutput(ctx, ctx.node("Shape", ctx.input(op, 0)), DataType.LONG, out);
    }

    /** size_at(x, d): Shape then a scalar Gather of entry d. */
    private static void exportSizeAt(SameDiffOp op, ExportContext ctx) {
        long[] a = ExportContext.intArgs(op);
        if (a.length != 1) throw ctx.error(op, "expects one dimension, found " + Arrays.toString(a));
        String out = ctx.output(op, 0);
        String shape = ctx.node("Shape", ctx.input(op, 0)).build();
        ExportContext.NodeBuilder size = ctx.rank(out) == 0
                ? ctx.node("Gather", shape, ctx.constant(Nd4j.scalar(DataType.LONG, a[0])))
                : ctx.node("Slice", shape, ctx.longs(a[0]), ctx.longs(a[0] == -1 ? Long.MAX_VALUE : a[0] + 1));
        toOutput(ctx, size, DataType.LONG, out);
    }

    /**
     * The uniform draw of training-mode Dropout: RandomUniformLike over a tensor of the requested shape. The
     * numbers differ from SameDiff's generator, as any two runtimes' do; only the distribution is the same.
     */
    private static void exportRandomUniform(SameDiffOp op, ExportContext ctx) {
        double[] t = ExportContext.floatArgs(op);
        if (t.length < 2) throw ctx.error(op, "expects min and max, found " + Arrays.toString(t));
        String out = ctx.output(op, 0);
        DataType type = ctx.dataType(out);
        String like = ctx.node("ConstantOfShape", int64(ctx, ctx.input(op, 0))).attr("value", zeroTensor(type)).build();
        ctx.node("RandomUniformLike", like).attr("low", (float) t[t.length - 2]).attr("high", (float) t[t.length - 1])
                .attr("dtype", (long) OnnxTensors.toOnnx(type)).to(out);
    }

    // ---------------------------------------------------------------- export helpers (shared by the families)

    /** The op's i-th input as int64: as it is, a converted constant, or through a Cast. */
    static String int64(ExportContext ctx, String value) {
        if (ctx.dataType(value) == DataType.LONG) return value;
        if (ctx.isConstant(value)) return ctx.constant(ctx.constantValue(value).castTo(DataType.LONG));
        return ctx.node("Cast", value).attr("to", (long) OnnxTensors.toOnnx(DataType.LONG)).build();
    }

    /** Writes the node to {@code out}, through a Cast when it makes {@code produced} and out has another type. */
    static void toOutput(ExportContext ctx, ExportContext.NodeBuilder node, DataType produced, String out) {
        DataType want = ctx.dataType(out);
        if (want == produced) node.to(out);
        else castTo(ctx, node.build(), want, out);
    }

    /** Writes Cast(value) to {@code out}. */
    static String castTo(ExportContext ctx, String value, DataType type, String out) {
        return ctx.node("Cast", value).attr("to", (long) OnnxTensors.toOnnx(type)).to(out);
    }

    /** The integer contents of a constant input (axes, permutations), which ONNX needs as attributes or constants. */
    static long[] constantArg(SameDiffOp op, ExportContext ctx, int i, String what) {
        long[] v = ctx.constantLongs(ctx.input(op, i));
        if (v == null) {
            throw ctx.error(op, what + " computed at run time ('" + ctx.input(op, i) + "') cannot be exported; "
                    + "ONNX needs them constant here");
        }
        return v;
    }

    /** A one-element tensor of the type (ConstantOfShape's value). */
    static ai.onnx.proto.OnnxMl.TensorProto zeroTensor(DataType type) {
        return valueTensor(type, 0);
    }

    static ai.onnx.proto.OnnxMl.TensorProto valueTensor(DataType type, double v) {
        return OnnxTensors.toProto("value", Nd4j.scalar(v).castTo(type).reshape(1));
    }

    private static void dropout(OnnxNode n, ImportContext ctx) {
        // Inference semantics (training_mode absent or false): output = input, mask = all true.
        SDVariable x = ctx.input(n, 0);
        if (!n.hasInput(2) || (ctx.isStaticInput(n, 2) && ctx.constantInput(n, 2, "training_mode").getDouble(0) == 0)) {
            ctx.setOutput(n, 0, x);
            if (n.hasOutput(1)) {
                ctx.setOutput(n, 1, ctx.sd().onesLike(x).castTo(DataType.BOOL));
            }
            return;
        }
        dropoutTraining(n, ctx, x);
    }

    /**
     * Dropout-12+ with training_mode on (or decided at run time): keep each element with probability
     * 1 - ratio and scale kept ones by 1 / (1 - ratio). The random draw cannot reproduce another runtime's
     * generator; with ratio 0 the result is exact.
     */
    private static void dropoutTraining(OnnxNode n, ImportContext ctx, SDVariable x) {
        SameDiff sd = ctx.sd();
        DataType t = x.dataType();
        SDVariable ratio = n.hasInput(1) ? sd.reshape(ctx.input(n, 1).castTo(t), new long[0]) : ctx.scalar(t, 0.5);
        SDVariable u = uniform(sd, sd.shape(x).castTo(DataType.LONG), t);
        SDVariable keep = sd.gte(u, ratio);
        SDVariable trained = x.mul(keep.castTo(t)).div(ratio.rsub(1.0));
        SDVariable train = sd.reshape(ctx.input(n, 2), new long[0]);
        SDVariable on = train.castTo(t);
        // on ? trained : x, written arithmetically so that gradients flow in both modes.
        SDVariable y = trained.mul(on).add(x.mul(on.rsub(1.0)));
        ctx.setOutput(n, 0, y);
        if (n.hasOutput(1)) {
            SDVariable off = train.castTo(DataType.INT).rsub(1);
            ctx.setOutput(n, 1, sd.math().max(keep.castTo(DataType.INT), off).castTo(DataType.BOOL));
        }
    }

    private static void constant(OnnxNode n, ImportContext ctx) {
        INDArray value;
        if (n.has("value")) {
            value = OnnxTensors.toArray(n.getTensor("value"), null, n.describe() + " attribute 'value'");
        } else if (n.has("value_float")) {
            value = Nd4j.scalar(DataType.FLOAT, n.getFloat("value_float", 0));
        } else if (n.has("value_floats")) {
            value = Nd4j.createFromArray(n.getFloats("value_floats"));
        } else if (n.has("value_int")) {
            value = Nd4j.scalar(DataType.LONG, n.getLong("value_int", 0));
        } else if (n.has("value_ints")) {
            value = Nd4j.createFromArray(n.getLongs("value_ints"));
        } else {
            throw n.error("has none of the supported value attributes (value, value_float(s), value_int(s)); found "
                    + n.attributeNames());
        }
        ctx.setConstantOutput(n, 0, value);
    }

    private static void shape(OnnxNode n, ImportContext ctx) {
        long[] s = ctx.inputShape(n, 0);
        int rank = s.length;
        int start = (int) n.getLong("start", 0);
        int end = (int) n.getLong("end", rank);
        start = Math.max(0, Math.min(rank, start < 0 ? start + rank : start));
        end = Math.max(0, Math.min(rank, end < 0 ? end + rank : end));
        long[] part = Arrays.copyOfRange(s, start, Math.max(start, end));
        if (Arrays.stream(part).allMatch(d -> d >= 0)) {
            ctx.setConstantOutput(n, 0, Nd4j.createFromArray(part));
            return;
        }
        SDVariable full = ctx.sd().shape(ctx.input(n, 0)).castTo(DataType.LONG);
        if (start == 0 && end == rank) {
            ctx.setOutput(n, 0, full);
        } else {
            ctx.setOutput(n, 0, ctx.sd().slice(full, new int[]{start}, end - start));
        }
    }

    private static void reshape(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        boolean allowZero = n.getLong("allowzero", 0) != 0;
        if (!ctx.isStaticInput(n, 1)) {
            // Computed at run time: a 0 entry copies the input dimension (unless allowzero), computed in the graph.
            SDVariable target = ctx.input(n, 1).castTo(DataType.LONG);
            if (!allowZero) {
                IndexOperands.RuntimeInts ri = new IndexOperands.RuntimeInts(ctx);
                long[] ts = ctx.inputShape(n, 1);
                if (ts.length != 1 || ts[0] < 0) throw n.error("shape input must be 1-D of known length");
                int k = (int) ts[0];
                int rank = ctx.inputRank(n, 0);
                SDVariable inDims = ri.dims(x);
                SDVariable aligned = k <= rank ? sd.slice(inDims, new int[]{0}, k)
                        : sd.concat(0, inDims, ri.vec(new long[k - rank]));
                SDVariable isZero = sd.eq(target, 0.0).castTo(DataType.LONG);
                target = target.add(isZero.mul(aligned));
            }
            ctx.setOutput(n, 0, sd.reshape(x, target));
            return;
        }
        long[] target = ctx.constantInput(n, 1, "shape").castTo(DataType.LONG).data().asLong();
        long[] inShape = null;
        boolean needsDynamic = false;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == 0 && !allowZero) {
                if (inShape == null) inShape = ctx.inputShape(n, 0);
                if (i >= inShape.length) throw n.error("shape entry " + i + " is 0 (copy) but the input has rank " + inShape.length);
                if (inShape[i] >= 0) target[i] = inShape[i];
                else needsDynamic = true;
            }
        }
        if (!needsDynamic) {
            // When -1 stands with a dynamic input dim, SameDiff infers it at run time: still dynamic.
            ctx.setOutput(n, 0, sd.reshape(x, target));
            return;
        }
        SDVariable inDims = sd.shape(x).castTo(DataType.LONG);
        List<SDVariable> parts = new ArrayList<>();
        for (int i = 0; i < target.length; i++) {
            if (target[i] == 0) {
                parts.add(sd.slice(inDims, new int[]{i}, 1));
            } else {
                parts.add(ctx.constant(Nd4j.createFromArray(new long[]{target[i]})));
            }
        }
        ctx.setOutput(n, 0, sd.reshape(x, sd.concat(0, parts.toArray(new SDVariable[0]))));
    }

    /** Reshapes to 2-D [prod(dims before axis), prod(dims from axis)], keeping dynamic dims dynamic. */
    static SDVariable flatten2d(ImportContext ctx, String onnxName, int axis, int rank) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.value(onnxName);
        long[] s = ctx.shape(onnxName);
        long outer = 1;
        long inner = 1;
        boolean outerDynamic = false;
        boolean innerDynamic = false;
        for (int i = 0; i < rank; i++) {
            if (i < axis) {
                if (s[i] < 0) outerDynamic = true; else outer *= s[i];
            } else {
                if (s[i] < 0) innerDynamic = true; else inner *= s[i];
            }
        }
        if (!(outerDynamic && innerDynamic)) {
            return sd.reshape(x, outerDynamic ? -1 : outer, innerDynamic ? -1 : inner);
        }
        SDVariable dims = sd.shape(x).castTo(DataType.LONG);
        SDVariable o = sd.prod(sd.slice(dims, new int[]{0}, axis), true, 0);
        SDVariable in = sd.prod(sd.slice(dims, new int[]{axis}, rank - axis), true, 0);
        return sd.reshape(x, sd.concat(0, o, in));
    }

    private static void unsqueeze(OnnxNode n, ImportContext ctx, long[] axes) {
        if (axes == null) throw n.error("axes are required");
        int outRank = ctx.inputRank(n, 0) + axes.length;
        int[] sorted = Arrays.stream(axes).mapToInt(a -> ImportContext.axis(n, a, outRank)).sorted().toArray();
        SDVariable y = ctx.input(n, 0);
        for (int a : sorted) {
            y = ctx.sd().expandDims(y, a);
        }
        ctx.setOutput(n, 0, sorted.length == 0 ? ctx.sd().identity(y) : y);
    }

    /** Unsqueeze-13 with axes computed at run time: the output shape is built in the graph. */
    private static void unsqueezeRuntime(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        IndexOperands.RuntimeInts ri = new IndexOperands.RuntimeInts(ctx);
        SDVariable x = ctx.input(n, 0);
        int rank = ctx.inputRank(n, 0);
        long[] as = ctx.inputShape(n, 1);
        if (as.length != 1 || as[0] < 0) throw n.error("axes must be 1-D of known length");
        int outRank = rank + (int) as[0];
        SDVariable isNew = ri.axisMask(ctx.input(n, 1), (int) as[0], outRank);
        SDVariable shape;
        if (rank == 0) {
            shape = ri.vec(IndexOperands.ones(outRank));
        } else {
            SDVariable keep = ri.c(1).sub(isNew);
            // Kept position j takes input dimension number (count of kept positions before j).
            SDVariable src = ri.clamp(ri.exclusiveCumsum(keep), ri.c(0), ri.c(rank - 1));
            shape = sd.gather(ri.dims(x), src, 0).mul(keep).add(isNew);
        }
        ctx.setOutput(n, 0, sd.reshape(x, shape));
    }

    /** Squeeze-13 with axes computed at run time: the kept dimensions are selected in the graph. */
    private static void squeezeRuntime(OnnxNode n, ImportContext ctx) {
        IndexOperands.RuntimeInts ri = new IndexOperands.RuntimeInts(ctx);
        SDVariable x = ctx.input(n, 0);
        int rank = ctx.inputRank(n, 0);
        long[] as = ctx.inputShape(n, 1);
        if (as.length != 1 || as[0] < 0) throw n.error("axes must be 1-D of known length");
        SDVariable keep = ri.c(1).sub(ri.axisMask(ctx.input(n, 1), (int) as[0], rank));
        SDVariable shape = ri.compress(ri.dims(x), keep, rank, rank - (int) as[0]);
        ctx.setOutput(n, 0, ctx.sd().reshape(x, shape));
    }

    private static void squeeze(OnnxNode n, ImportContext ctx, long[] axes) {
        long[] s = ctx.inputShape(n, 0);
        int rank = s.length;
        int[] dims;
        if (axes == null || axes.length == 0) {
            List<Integer> ones = new ArrayList<>();
            for (int i = 0; i < rank; i++) {
                if (s[i] == 1) ones.add(i);
                else if (s[i] < 0) throw n.error("Squeeze without axes on a dynamic dimension (axis " + i + ")");
            }
            dims = ones.stream().mapToInt(Integer::intValue).toArray();
        } else {
            dims = Arrays.stream(axes).mapToInt(a -> ImportContext.axis(n, a, rank)).toArray();
        }
        List<Long> kept = new ArrayList<>();
        outer:
        for (int i = 0; i < rank; i++) {
            for (int d : dims) if (d == i) continue outer;
            kept.add(s[i]);
        }
        SDVariable x = ctx.input(n, 0);
        long dynamicCount = kept.stream().filter(d -> d < 0).count();
        if (dynamicCount <= 1) {
            ctx.setOutput(n, 0, ctx.sd().reshape(x, kept.stream().mapToLong(Long::longValue).toArray()));
            return;
        }
        SDVariable y = x;
        int[] desc = Arrays.stream(dims).boxed().sorted((a, b) -> b - a).mapToInt(Integer::intValue).toArray();
        for (int d : desc) y = ctx.sd().squeeze(y, d);
        ctx.setOutput(n, 0, y);
    }

    static SDVariable uniform(SameDiff sd, SDVariable shape, DataType type) {
        return new DistributionUniform(sd, shape, 0, 1, type).outputVariable();
    }
}
