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
import java.util.Map;
import java.util.function.BinaryOperator;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.custom.BitCast;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastTo;
import org.nd4j.linalg.api.ops.impl.controlflow.Where;
import org.nd4j.linalg.api.ops.impl.controlflow.compat.StopGradient;
import org.nd4j.linalg.api.ops.impl.shape.BroadcastDynamicShape;
import org.nd4j.linalg.api.ops.impl.transforms.bool.BooleanNot;
import org.nd4j.linalg.api.ops.impl.transforms.comparison.CompareAndSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * Comparisons (Equal, Greater, Less, GreaterOrEqual, LessOrEqual), logical ops (Not, And, Or, Xor) and
 * Where. All outputs of comparisons and logical ops are BOOL; all binary ops broadcast numpy-style.
 *
 * <p>SameDiff's comparison ops broadcast both ways, but its And/Or/Xor only broadcast the second operand
 * into the first (a smaller first operand silently yields the first operand's shape) and its Where needs
 * equal shapes, so those get their operands broadcast explicitly first.
 *
 * <p>Opsets 1-6 of Equal/Greater/Less/And/Or/Xor used the legacy {@code broadcast}/{@code axis} attributes
 * instead of numpy broadcasting; they are mapped onto numpy broadcasting (see {@link #legacyOperands}).
 */
public final class ComparisonOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        comparison(r, "Equal", SameDiff::eq, 1, 7);
        comparison(r, "Greater", SameDiff::gt, 1, 7);
        comparison(r, "Less", SameDiff::lt, 1, 7);
        // GreaterOrEqual / LessOrEqual were introduced in opset 12 with numpy broadcasting.
        r.importer("GreaterOrEqual", 12, (n, ctx) -> binaryNumpy(n, ctx, SameDiff::gte));
        r.importer("LessOrEqual", 12, (n, ctx) -> binaryNumpy(n, ctx, SameDiff::lte));
        logical(r, "And", (a, b) -> a.getSameDiff().math().and(a, b));
        logical(r, "Or", (a, b) -> a.getSameDiff().math().or(a, b));
        logical(r, "Xor", (a, b) -> a.getSameDiff().math().xor(a, b));
        r.importer("Not", 1, ComparisonOps::not);
        r.importer("Where", 9, ComparisonOps::where);
        registerExporters(r);
    }

    // ---------------------------------------------------------------- export

    private static void registerExporters(ConverterRegistry.Builder r) {
        // SameDiff's comparisons broadcast both operands numpy-style, as ONNX's do; both answer BOOL.
        compare(r, "Equal", false, "equals", "equals_scalar");
        compare(r, "Equal", true, "not_equals", "notequals_scalar");
        compare(r, "Greater", false, "greater", "greaterthan_scalar");
        compare(r, "GreaterOrEqual", false, "greater_equal", "greaterthanorequal_scalar");
        compare(r, "Less", false, "less", "lessthan_scalar");
        compare(r, "LessOrEqual", false, "less_equal", "lessthanorequal_scalar");
        // Logical ops read any element type as "not zero"; ONNX's want BOOL.
        for (String[] p : new String[][]{{"and", "And"}, {"or", "Or"}, {"xor", "Xor"},
                {"boolean_and", "And"}, {"boolean_or", "Or"}, {"boolean_xor", "Xor"}}) {
            r.exporter(p[0], (op, ctx) -> ctx.node(p[1], bool(ctx, ctx.input(op, 0)), bool(ctx, ctx.input(op, 1)))
                    .to(ctx.output(op, 0)));
        }
        for (String not : new String[]{"bool_not", "boolean_not"}) {
            r.exporter(not, (op, ctx) -> ctx.node("Not", bool(ctx, ctx.input(op, 0))).to(ctx.output(op, 0)));
        }
        r.exporter("Where", ComparisonOps::exportWhere);
        r.exporter("cas", ComparisonOps::exportCompareAndSet);
        r.exporter("bitcast", ComparisonOps::exportBitCast);
    }

    /**
     * Binary comparisons and their legacy scalar forms (whose scalar SameDiff holds in the input's type),
     * optionally negated (not equal). Operands of different types meet in the wider one.
     */
    private static void compare(ConverterRegistry.Builder r, String onnxOp, boolean negate, String pairwise, String scalar) {
        r.exporter(pairwise, (op, ctx) -> {
            String[] xy = commonType(ctx, ctx.input(op, 0), ctx.input(op, 1));
            comparison(op, ctx, onnxOp, negate, xy[0], xy[1]);
        });
        r.exporter(scalar, (op, ctx) ->
                comparison(op, ctx, onnxOp, negate, ctx.input(op, 0), ElementwiseOps.scalarOperand(op, ctx)));
    }

    private static void comparison(SameDiffOp op, ExportContext ctx, String onnxOp, boolean negate, String x, String y) {
        if (negate) {
            ctx.node("Not", ctx.node(onnxOp, x, y).build()).to(ctx.output(op, 0));
        } else {
            ctx.node(onnxOp, x, y).to(ctx.output(op, 0));
        }
    }

    /** The two values in one element type: floating point over integer, then the wider. */
    private static String[] commonType(ExportContext ctx, String x, String y) {
        DataType tx = ctx.dataType(x);
        DataType ty = ctx.dataType(y);
        if (tx == ty) return new String[]{x, y};
        boolean xWins = tx.isFPType() != ty.isFPType() ? tx.isFPType() : tx.width() >= ty.width();
        return xWins ? new String[]{x, cast(ctx, y, tx)} : new String[]{cast(ctx, x, ty), y};
    }

    private static String cast(ExportContext ctx, String x, DataType to) {
        return ctx.dataType(x) == to ? x : ctx.node("Cast", x).attr("to", OnnxTensors.toOnnx(to)).build();
    }

    /** The value as BOOL (non-zero is true, as in ND4J's logical ops and its Where condition). */
    private static String bool(ExportContext ctx, String x) {
        return cast(ctx, x, DataType.BOOL);
    }

    /**
     * Where with three inputs (condition, x, y) selects elementwise, which ONNX's Where does with broadcasting
     * (SameDiff's wants equal shapes, so any input SameDiff accepts ONNX does too). With one input it lists the
     * coordinates of the true elements, one row each (int64 [n, rank]): ONNX's NonZero transposed.
     *
     * <p>A Where that selects between the bits of two floating-point values, reinterpreted as integers and read
     * back as floating point (the importer's {@link #trainableWhere}), is written as one Where on the values
     * themselves: see {@link #exportBitCast}.
     */
    private static void exportWhere(SameDiffOp op, ExportContext ctx) {
        if (ctx.inputCount(op) == 1) {
            String nz = ctx.node("NonZero", bool(ctx, ctx.input(op, 0))).build();
            ctx.node("Transpose", nz).attr("perm", new long[]{1, 0}).to(ctx.output(op, 0));
            return;
        }
        if (ctx.inputCount(op) != 3) {
            throw ctx.error(op, "Where with " + ctx.inputCount(op) + " inputs has no ONNX equivalent (1 or 3 export)");
        }
        if (bitSelection(ctx, op) != null) {
            return; // written by the bit casts reading its output
        }
        ctx.node("Where", bool(ctx, ctx.input(op, 0)), ctx.input(op, 1), ctx.input(op, 2)).to(ctx.output(op, 0));
    }

    /**
     * ONNX (up to opset 21) has no bit cast. The only bit casts graft makes are the ones around a Where in
     * {@link #trainableWhere}: {@code bitcast(Where(c, bitcast(x, int), bitcast(y, int)), float)}, which is
     * {@code Where(c, x, y)} and is written as that by the outer bit cast; the Where and the inner bit casts
     * then write nothing. Any other bit cast is an error.
     */
    private static void exportBitCast(SameDiffOp op, ExportContext ctx) {
        SameDiffOp where = producer(ctx, ctx.input(op, 0));
        String[] values = where == null ? null : bitSelection(ctx, where);
        if (values != null) {
            ctx.node("Where", bool(ctx, ctx.input(where, 0)), values[0], values[1]).to(ctx.output(op, 0));
            return;
        }
        List<SameDiffOp> readers = consumers(ctx, ctx.output(op, 0));
        if (!readers.isEmpty() && readers.stream().allMatch(w -> "Where".equals(w.getOp().opName())
                && ctx.inputCount(w) == 3 && bitSelection(ctx, w) != null)) {
            return; // read only by Wheres whose bit casts back write the selection of the original values
        }
        throw ctx.error(op, "ONNX has no bit cast (reinterpreting " + ctx.dataType(ctx.input(op, 0)) + " as "
                + ctx.dataType(ctx.output(op, 0)) + "); only graft's bit casts around a Where export");
    }

    /**
     * When the three-input Where selects between two values bit cast from the same type T to an integer of
     * T's width, and everything reading its output bit casts it back to T: the two original values; else null.
     */
    private static String[] bitSelection(ExportContext ctx, SameDiffOp where) {
        if (ctx.inputCount(where) != 3) return null;
        String[] sources = new String[2];
        DataType type = null;
        for (int i = 0; i < 2; i++) {
            SameDiffOp cast = producer(ctx, ctx.input(where, i + 1));
            if (cast == null || !"bitcast".equals(cast.getOp().opName())) return null;
            sources[i] = ctx.input(cast, 0);
            DataType from = ctx.dataType(sources[i]);
            if (from.width() != ctx.dataType(ctx.output(cast, 0)).width() || (type != null && type != from)) return null;
            type = from;
        }
        List<SameDiffOp> readers = consumers(ctx, ctx.output(where, 0));
        for (SameDiffOp back : readers) {
            if (!"bitcast".equals(back.getOp().opName()) || ctx.dataType(ctx.output(back, 0)) != type) return null;
        }
        return readers.isEmpty() ? null : sources;
    }

    private static SameDiffOp producer(ExportContext ctx, String value) {
        Variable v = ctx.sd().getVariables().get(value);
        String op = v == null ? null : v.getOutputOfOp();
        return op == null ? null : ctx.sd().getOps().get(op);
    }

    private static List<SameDiffOp> consumers(ExportContext ctx, String value) {
        Variable v = ctx.sd().getVariables().get(value);
        List<SameDiffOp> out = new ArrayList<>();
        if (v != null && v.getInputsForOp() != null) {
            for (String name : v.getInputsForOp()) out.add(ctx.sd().getOps().get(name));
        }
        return out;
    }

    /**
     * CompareAndSet with one input: {@code z = condition(x) ? set : x}; with two (x, y):
     * {@code z = condition(y) ? y : x}. The condition is one of ND4J's condition modes with a compare value
     * and, for (not) equals, an epsilon: {@code |x - compare| <= eps} (checked at the boundary).
     */
    private static void exportCompareAndSet(SameDiffOp op, ExportContext ctx) {
        Map<String, Object> p = op.getOp().propertiesForFunction();
        Object mode = p.get("mode");
        int m = mode instanceof Conditions.ConditionMode cm ? cm.index : ((Number) mode).intValue();
        double compare = ((Number) p.get("compare")).doubleValue();
        double eps = ((Number) p.get("eps")).doubleValue();
        String x = ctx.input(op, 0);
        String tested = ctx.inputCount(op) > 1 ? ctx.input(op, 1) : x;
        String set = ctx.inputCount(op) > 1 ? tested : ctx.scalar(ctx.dataType(x), ((Number) p.get("set")).doubleValue());
        String mask = condition(op, ctx, tested, m, compare, eps);
        ctx.node("Where", mask, set, x).to(ctx.output(op, 0));
    }

    /** The BOOL mask of ND4J's condition mode {@code m} on x (the modes of {@link Conditions.ConditionMode}). */
    private static String condition(SameDiffOp op, ExportContext ctx, String x, int m, double compare, double eps) {
        DataType type = ctx.dataType(x);
        boolean fp = type.isFPType();
        if (m == 8 || m == 9) {
            if (!fp) return ctx.constant(Nd4j.scalar(false)); // integers are never inf or NaN
            return ctx.node(m == 8 ? "IsInf" : "IsNaN", x).build();
        }
        if (m == 10 || m == 14 || m == 15) {
            // libnd4j does not compute these as the Java conditions describe them (checked): for ABS_EQUALS 2 it
            // sets 2 and 2.0000002 but not -2, whatever the eps; IS_FINITE writes the compare value (-1) over
            // finite values and NaN; NOT_FINITE changes nothing. Nothing sure to write, so no export.
            throw ctx.error(op, "CompareAndSet with condition " + Conditions.ConditionMode.fromNumber(m)
                    + " does not export: libnd4j's result is not what the condition says");
        }
        String c = ctx.scalar(type, compare);
        String abs = m == 6 || m == 7 || m == 12 || m == 13 ? ctx.node("Abs", x).build() : x;
        return switch (m) {
            case 0, 1 -> {
                String dist = ctx.node("Abs", ctx.node("Sub", x, c).build()).build();
                yield ctx.node(m == 0 ? "LessOrEqual" : "Greater", dist, ctx.scalar(type, eps)).build();
            }
            case 2, 6 -> ctx.node("Less", abs, c).build();
            case 3, 7 -> ctx.node("Greater", abs, c).build();
            case 4, 13 -> ctx.node("LessOrEqual", abs, c).build();
            case 5, 12 -> ctx.node("GreaterOrEqual", abs, c).build();
            case 11 -> ctx.node("Not", ctx.node("Equal", x, c).build()).build();
            default -> throw ctx.error(op, "condition mode " + m + " does not export");
        };
    }

    /** A SameDiff binary op: (sd, x, y) -> result. */
    @FunctionalInterface
    private interface SdBinary {
        SDVariable apply(SameDiff sd, SDVariable x, SDVariable y);
    }

    /** Comparison with a legacy-broadcast version (opset 1) and a numpy-broadcast version (opset 7 on). */
    private static void comparison(ConverterRegistry.Builder r, String op, SdBinary f, int legacy, int numpy) {
        r.importer(op, legacy, (n, ctx) -> {
            Operands o = legacyOperands(n, ctx);
            ctx.setOutput(n, 0, f.apply(ctx.sd(), o.a(), o.b()));
        });
        r.importer(op, numpy, (n, ctx) -> binaryNumpy(n, ctx, f));
    }

    private static void binaryNumpy(OnnxNode n, ImportContext ctx, SdBinary f) {
        ctx.setOutput(n, 0, f.apply(ctx.sd(), ctx.input(n, 0), ctx.input(n, 1)));
    }

    /** And/Or/Xor: bool inputs; operands broadcast explicitly (see the class comment). */
    private static void logical(ConverterRegistry.Builder r, String op, BinaryOperator<SDVariable> f) {
        r.importer(op, 1, (n, ctx) -> {
            Operands o = legacyOperands(n, ctx);
            SDVariable[] b = broadcastTogether(ctx, new SDVariable[]{o.a(), o.b()},
                    new long[][]{o.shapeA(), o.shapeB()});
            ctx.setOutput(n, 0, f.apply(b[0], b[1]));
        });
        r.importer(op, 7, (n, ctx) -> {
            SDVariable[] b = broadcastTogether(ctx, new SDVariable[]{ctx.input(n, 0), ctx.input(n, 1)},
                    new long[][]{ctx.inputShape(n, 0), ctx.inputShape(n, 1)});
            ctx.setOutput(n, 0, f.apply(b[0], b[1]));
        });
    }

    private record Operands(SDVariable a, SDVariable b, long[] shapeA, long[] shapeB) {
    }

    /**
     * Opsets 1-6: with {@code broadcast=0} the shapes must be equal (numpy broadcasting gives the same
     * result); with {@code broadcast=1} B's shape is a contiguous run of A's dimensions starting at
     * {@code axis} (default: aligned to the end). Appending size-1 dimensions to B turns that into numpy
     * broadcasting.
     */
    private static Operands legacyOperands(OnnxNode n, ImportContext ctx) {
        SDVariable a = ctx.input(n, 0);
        SDVariable b = ctx.input(n, 1);
        long[] shapeB = ctx.inputShape(n, 1);
        long broadcast = n.getLong("broadcast", 0);
        n.unsupportedIf(broadcast != 0 && broadcast != 1, "broadcast=" + broadcast);
        if (broadcast == 1 && n.has("axis")) {
            int rankA = ctx.inputRank(n, 0);
            int rankB = ctx.inputRank(n, 1);
            int axis = ImportContext.axis(n, n.getLong("axis", 0), rankA);
            int trailing = rankA - axis - rankB;
            if (trailing < 0) {
                throw n.error("B (rank " + rankB + ") does not fit into A (rank " + rankA + ") at axis " + axis);
            }
            for (int i = 0; i < trailing; i++) {
                b = ctx.sd().expandDims(b, rankB + i);
            }
            shapeB = Arrays.copyOf(shapeB, rankB + trailing);
            Arrays.fill(shapeB, rankB, rankB + trailing, 1);
        }
        return new Operands(a, b, ctx.inputShape(n, 0), shapeB);
    }

    private static void not(OnnxNode n, ImportContext ctx) {
        ctx.setOutput(n, 0, new BooleanNot(ctx.sd(), ctx.input(n, 0)).outputVariable());
    }

    /**
     * Where(condition, X, Y) with numpy broadcasting of all three (opset 9; 16 only adds bfloat16).
     * SameDiff's Where needs equal shapes, so the operands are broadcast first. SameDiff's Where also has
     * no gradient, so floating-point operands that may depend on weights go through {@link #trainableWhere}.
     */
    private static void where(OnnxNode n, ImportContext ctx) {
        SDVariable[] in = {ctx.input(n, 0), ctx.input(n, 1), ctx.input(n, 2)};
        long[][] shapes = {ctx.inputShape(n, 0), ctx.inputShape(n, 1), ctx.inputShape(n, 2)};
        SDVariable[] b = broadcastTogether(ctx, in, shapes);
        boolean constantBranches = ctx.isStaticInput(n, 1) && ctx.isStaticInput(n, 2);
        if (b[1].dataType().isFPType() && !constantBranches) {
            ctx.setOutput(n, 0, trainableWhere(ctx, b[0], b[1], b[2]));
        } else {
            ctx.setOutput(n, 0, new Where(ctx.sd(), b[1], b[2], b[0]).outputVariable());
        }
    }

    /**
     * A Where that SameDiff can differentiate, with exactly the value of Where.
     *
     * <p>The value: the selection runs on the operands' bits reinterpreted as integers. SameDiff only
     * differentiates along floating-point paths, so it never asks the (gradient-less) Where op for one;
     * bit casts keep every value exact, including NaN, infinities and -0.
     *
     * <p>The gradient: {@code g = finite(x)*m + finite(y)*(1-m)}, with m the condition as 0/1 and
     * non-finite values zeroed so that g is finite, is subtracted as {@code stopGradient(g) - g}, which is
     * exactly +0 and so leaves the value (and its sign of zero) unchanged, but carries dOut/dx = m and
     * dOut/dy = 1-m, the gradient of Where.
     */
    private static SDVariable trainableWhere(ImportContext ctx, SDVariable c, SDVariable x, SDVariable y) {
        SameDiff sd = ctx.sd();
        DataType type = x.dataType();
        DataType bits = switch (type) {
            case DOUBLE -> DataType.LONG;
            case FLOAT -> DataType.INT;
            case HALF, BFLOAT16 -> DataType.SHORT;
            default -> throw new IllegalStateException("not a floating-point type: " + type);
        };
        SDVariable selectedBits = new Where(sd, bitCast(ctx, x, bits), bitCast(ctx, y, bits), c).outputVariable();
        SDVariable value = bitCast(ctx, selectedBits, type);
        SDVariable m = c.castTo(type);
        SDVariable g = finite(sd, x).mul(m).add(finite(sd, y).mul(m.rsub(1)));
        return value.sub(new StopGradient(sd, g).outputVariable().sub(g));
    }

    private static SDVariable bitCast(ImportContext ctx, SDVariable x, DataType to) {
        BitCast op = new BitCast(ctx.sd(), x, ctx.constant(Nd4j.scalar(to.toInt())));
        op.addIArgument(to.toInt());
        return op.outputVariable();
    }

    /** x with NaN and infinities replaced by 0 (differentiable: the gradient passes where x is finite). */
    private static SDVariable finite(SameDiff sd, SDVariable x) {
        SDVariable noNan = new CompareAndSet(sd, x, 0, Conditions.isNan()).outputVariable();
        return new CompareAndSet(sd, noNan, 0, Conditions.isInfinite()).outputVariable();
    }

    // ---------------------------------------------------------------- broadcasting

    /**
     * Broadcasts the operands to their common numpy shape, leaving alone those that already have it.
     * Floating-point operands are broadcast by subtracting zeros (which keeps them differentiable and
     * leaves every value, including infinities, NaN and -0, unchanged); others with a BroadcastTo op,
     * which has no gradient.
     */
    static SDVariable[] broadcastTogether(ImportContext ctx, SDVariable[] xs, long[][] shapes) {
        long[] target = staticBroadcastShape(shapes);
        SDVariable[] out = xs.clone();
        if (target != null) {
            for (int i = 0; i < xs.length; i++) {
                if (!Arrays.equals(shapes[i], target)) {
                    out[i] = broadcastTo(ctx, xs[i], ctx.constant(Nd4j.createFromArray(target)));
                }
            }
            return out;
        }
        // Some dimension is only known at run time: compute the common shape in the graph.
        SameDiff sd = ctx.sd();
        int rank = 0;
        for (long[] s : shapes) rank = Math.max(rank, s.length);
        SDVariable shape = paddedShape(ctx, xs[0], shapes[0].length, rank);
        for (int i = 1; i < xs.length; i++) {
            // The op wants both inputs of one integer type, and its output type is not always its inputs'.
            shape = new BroadcastDynamicShape(sd, shape, paddedShape(ctx, xs[i], shapes[i].length, rank))
                    .outputVariable().castTo(DataType.LONG);
        }
        for (int i = 0; i < xs.length; i++) {
            if (!sameStaticShape(shapes[i], shapes)) {
                out[i] = broadcastTo(ctx, xs[i], shape);
            }
        }
        return out;
    }

    /** The run-time shape of x with leading 1s up to the given rank (broadcast_dynamic_shape wants equal lengths). */
    private static SDVariable paddedShape(ImportContext ctx, SDVariable x, int xRank, int rank) {
        SDVariable ones = ctx.constant(Nd4j.ones(DataType.LONG, rank - xRank));
        if (xRank == 0) {
            return ones;
        }
        SDVariable shape = ctx.sd().shape(x).castTo(DataType.LONG);
        return xRank == rank ? shape : ctx.sd().concat(0, ones, shape);
    }

    /** True when this shape is fully static and every other shape is statically identical to it. */
    private static boolean sameStaticShape(long[] s, long[][] all) {
        for (long d : s) if (d < 0) return false;
        for (long[] o : all) if (!Arrays.equals(o, s)) return false;
        return true;
    }

    private static SDVariable broadcastTo(ImportContext ctx, SDVariable x, SDVariable shape) {
        if (x.dataType().isFPType()) {
            // x - 0 (not x + 0) keeps the sign of -0.
            return x.sub(ctx.sd().fill(shape, x.dataType(), 0));
        }
        return new BroadcastTo(ctx.sd(), x, shape).outputVariable();
    }

    /** The numpy broadcast of static shapes, or null when a dimension is dynamic. */
    static long[] staticBroadcastShape(long[][] shapes) {
        int rank = 0;
        for (long[] s : shapes) rank = Math.max(rank, s.length);
        long[] out = new long[rank];
        Arrays.fill(out, 1);
        for (long[] s : shapes) {
            for (int i = 0; i < s.length; i++) {
                long d = s[i];
                int o = rank - s.length + i;
                if (d < 0) return null;
                if (d == 1) continue;
                if (out[o] != 1 && out[o] != d) {
                    throw new dev.graft.GraftException("shapes " + Arrays.deepToString(shapes) + " do not broadcast");
                }
                out[o] = d;
            }
        }
        return out;
    }
}
