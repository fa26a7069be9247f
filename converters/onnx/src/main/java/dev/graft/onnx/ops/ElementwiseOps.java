package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.OnnxTensors;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.ScalarOp;

/**
 * Elementwise arithmetic: binary ops with numpy broadcasting (opset 7 on) or the legacy broadcast/axis
 * attributes (opsets 1-6), unary math, and the variadic Max/Min/Sum/Mean.
 *
 * <p>Opset 1 versions differ from opset 6 only by the {@code consumed_inputs} attribute, an in-place
 * memory hint with no effect on the result, so opset-1 entries serve both.
 */
public final class ElementwiseOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        binary(r, "Add", SDVariable::add);
        binary(r, "Sub", SDVariable::sub);
        binary(r, "Mul", SDVariable::mul);
        binary(r, "Div", ElementwiseOps::div);
        r.importer("Pow", 1, (n, ctx) -> legacyBinary(n, ctx, (x, y) -> pow(ctx, x, y)));
        r.importer("Pow", 7, (n, ctx) -> ctx.setOutput(n, 0, pow(ctx, ctx.input(n, 0), ctx.input(n, 1))));
        unary(r, "Sqrt", 1, x -> x.getSameDiff().math().sqrt(x));
        unary(r, "Exp", 1, x -> x.getSameDiff().math().exp(x));
        unary(r, "Log", 1, x -> x.getSameDiff().math().log(x));
        unary(r, "Abs", 1, x -> x.getSameDiff().math().abs(x));
        unary(r, "Neg", 1, SDVariable::neg);
        unary(r, "Reciprocal", 1, x -> x.getSameDiff().math().reciprocal(x));
        unary(r, "Floor", 1, x -> x.getSameDiff().math().floor(x));
        unary(r, "Ceil", 1, x -> x.getSameDiff().math().ceil(x));
        unary(r, "Erf", 9, x -> x.getSameDiff().math().erf(x));
        unary(r, "Sin", 7, x -> x.getSameDiff().math().sin(x));
        unary(r, "Cos", 7, x -> x.getSameDiff().math().cos(x));
        unary(r, "Tanh", 1, x -> x.getSameDiff().math().tanh(x));
        // Opsets 1-7 require equal shapes where 8 broadcasts; numpy broadcasting of equal shapes is the
        // identity, so the opset 8 converter serves the older versions too.
        variadic(r, "Max", 1, (a, b) -> a.getSameDiff().math().max(a, b));
        variadic(r, "Min", 1, (a, b) -> a.getSameDiff().math().min(a, b));
        variadic(r, "Sum", 1, SDVariable::add);
        r.importer("Mean", 1, (n, ctx) -> {
            List<SDVariable> xs = ctx.inputs(n);
            SDVariable acc = xs.get(0);
            for (int i = 1; i < xs.size(); i++) acc = acc.add(xs.get(i));
            ctx.setOutput(n, 0, xs.size() == 1 ? acc : acc.div(xs.size()));
        });

        registerExporters(r);
    }

    // ---------------------------------------------------------------- export

    private static void registerExporters(ConverterRegistry.Builder r) {
        // SameDiff's pairwise ops broadcast as numpy does, as ONNX's do from opset 7.
        same(r, "Add", "add");
        same(r, "Sub", "subtract");
        same(r, "Mul", "multiply");
        same(r, "Div", "divide", "realdiv");
        for (String s : List.of("maximum", "max_pairwise")) r.exporter(s, (op, ctx) -> widened(op, ctx, "Max"));
        for (String s : List.of("minimum", "min_pairwise")) r.exporter(s, (op, ctx) -> widened(op, ctx, "Min"));
        same(r, "Sum", "mergeadd");
        // ONNX's Pow takes an exponent of another type than the base, and its result has the base's type.
        same(r, "Pow", "Pow");
        r.exporter("reversesubtract", (op, ctx) -> swapped(op, ctx, "Sub"));
        r.exporter("reversedivide", (op, ctx) -> swapped(op, ctx, "Div"));
        r.exporter("squaredsubtract", (op, ctx) -> {
            String d = ctx.node("Sub", ctx.input(op, 0), ctx.input(op, 1)).build();
            ctx.node("Mul", d, d).to(ctx.output(op, 0));
        });

        // Ops with a scalar operand, which SameDiff holds in the input's element type (as the constant here).
        scalar(r, "add_scalar", "Add", false);
        scalar(r, "sub_scalar", "Sub", false);
        scalar(r, "mul_scalar", "Mul", false);
        scalar(r, "div_scalar", "Div", false);
        scalar(r, "rsub_scalar", "Sub", true);
        scalar(r, "rdiv_scalar", "Div", true);
        scalar(r, "pow", "Pow", false);
        scalar(r, "max_scalar", "Max", false);
        scalar(r, "scalar_min", "Min", false);

        same(r, "Identity", "identity", "stop_gradient");
        same(r, "Abs", "abs");
        same(r, "Neg", "neg");
        r.exporter("sign", ElementwiseOps::exportSign);
        same(r, "Exp", "exp");
        same(r, "Log", "log");
        same(r, "Sqrt", "sqrt");
        same(r, "Erf", "erf");
        same(r, "Sin", "sin");
        same(r, "Cos", "cos");
        same(r, "Tan", "tan");
        same(r, "Asin", "asin");
        same(r, "Acos", "acos");
        same(r, "Atan", "atan");
        same(r, "Sinh", "sinh");
        same(r, "Cosh", "cosh");
        same(r, "Tanh", "tanh");
        same(r, "Asinh", "asinh");
        same(r, "Acosh", "acosh");
        same(r, "Atanh", "atanh");
        same(r, "IsNaN", "isnan");
        same(r, "IsInf", "isinf");
        // rint rounds half to even (the default rounding mode), as ONNX's Round does.
        floating(r, "rint", "Round");
        floating(r, "ceil", "Ceil");
        floating(r, "floor", "Floor");
        r.exporter("round", ElementwiseOps::exportRound);
        r.exporter("Reciprocal", (op, ctx) -> {
            String x = ctx.input(op, 0);
            if (ctx.dataType(x).isFPType()) ctx.same(op, "Reciprocal");
            else ctx.node("Div", ctx.scalar(ctx.dataType(x), 1), x).to(ctx.output(op, 0));
        });
        // 1 / sqrt(x), as libnd4j computes it: two correctly rounded steps.
        r.exporter("rsqrt", (op, ctx) ->
                ctx.node("Reciprocal", ctx.node("Sqrt", ctx.input(op, 0)).build()).to(ctx.output(op, 0)));
        r.exporter("square", (op, ctx) -> ctx.node("Mul", ctx.input(op, 0), ctx.input(op, 0)).to(ctx.output(op, 0)));
        r.exporter("cube", (op, ctx) -> {
            String x = ctx.input(op, 0);
            ctx.node("Mul", ctx.node("Mul", x, x).build(), x).to(ctx.output(op, 0));
        });
        r.exporter("log1p", ElementwiseOps::exportLog1p);
        r.exporter("cast", ElementwiseOps::exportCast);
    }

    /** SameDiff op types written as one ONNX node of {@code onnxOp} with the same inputs and outputs. */
    private static void same(ConverterRegistry.Builder r, String onnxOp, String... sameDiffOps) {
        for (String s : sameDiffOps) r.exporter(s, (op, ctx) -> ctx.same(op, onnxOp));
    }

    /**
     * Max/Min: ONNX Runtime has no kernel for 8- and 16-bit integers (the importer's Clip of int8 data comes
     * out as these), so such operands meet in int32 and the result is cast back; exact for these types.
     */
    private static void widened(SameDiffOp op, ExportContext ctx, String onnxOp) {
        DataType t = ctx.dataType(ctx.output(op, 0));
        if (t != DataType.BYTE && t != DataType.UBYTE && t != DataType.SHORT && t != DataType.UINT16) {
            ctx.same(op, onnxOp);
            return;
        }
        long int32 = dev.graft.onnx.OnnxTensors.toOnnx(DataType.INT);
        List<String> wide = ctx.inputs(op).stream()
                .map(in -> ctx.node("Cast", in).attr("to", int32).build()).toList();
        String y = ctx.node(onnxOp, wide).build();
        ctx.node("Cast", y).attr("to", (long) dev.graft.onnx.OnnxTensors.toOnnx(t)).to(ctx.output(op, 0));
    }

    /** Binary op with the operands swapped: reversesubtract(x, y) = y - x. */
    private static void swapped(SameDiffOp op, ExportContext ctx, String onnxOp) {
        ctx.node(onnxOp, ctx.input(op, 1), ctx.input(op, 0)).to(ctx.output(op, 0));
    }

    /**
     * An op with a scalar operand: {@code onnxOp(x, s)}, or {@code onnxOp(s, x)} when reversed (s - x, s / x).
     * The scalar keeps the element type SameDiff stored it in, which is the input's.
     */
    private static void scalar(ConverterRegistry.Builder r, String sameDiffOp, String onnxOp, boolean reversed) {
        r.exporter(sameDiffOp, (op, ctx) -> {
            String x = ctx.input(op, 0);
            String s = scalarOperand(op, ctx);
            ctx.node(onnxOp, reversed ? s : x, reversed ? x : s).to(ctx.output(op, 0));
        });
    }

    /**
     * The scalar operand of a legacy scalar op (arithmetic or comparison) as a rank-0 constant of the first
     * input's element type; the second input when the scalar is a graph value.
     */
    static String scalarOperand(SameDiffOp op, ExportContext ctx) {
        DataType type = ctx.dataType(ctx.input(op, 0));
        if (ctx.inputCount(op) > 1) {
            String s = ctx.input(op, 1);
            return ctx.dataType(s) == type ? s : ctx.node("Cast", s).attr("to", OnnxTensors.toOnnx(type)).build();
        }
        INDArray s = op.getOp() instanceof ScalarOp so ? so.scalar() : null;
        if (s == null) {
            throw ctx.error(op, "has no scalar operand");
        }
        // Exact for every type (a long beyond 2^53 would not survive a trip through double).
        return ctx.constant(s.castTo(type).reshape());
    }

    /** Ops defined for floating point only in ONNX, which ND4J computes as the identity on integers. */
    private static void floating(ConverterRegistry.Builder r, String sameDiffOp, String onnxOp) {
        r.exporter(sameDiffOp, (op, ctx) -> ctx.same(op, ctx.dataType(ctx.input(op, 0)).isFPType() ? onnxOp : "Identity"));
    }

    /**
     * ND4J's round rounds halves away from zero (C's {@code round}); ONNX's Round rounds them to even. The two
     * differ only at halves whose even neighbour is the one towards zero: there {@code d = x - Round(x)} is
     * exactly 0.5 with x's sign ({@code d * sign(x) == 0.5}; x - Round(x) is always exact), and one step of
     * {@code sign(x)} away from zero is taken. Infinities and NaN come out as they went in.
     */
    private static void exportRound(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        DataType type = ctx.dataType(x);
        if (!type.isFPType()) {
            ctx.same(op, "Identity");
            return;
        }
        String rounded = ctx.node("Round", x).build();
        String sign = ctx.node("Sign", x).build();
        String d = ctx.node("Sub", x, rounded).build();
        String tie = ctx.node("Equal", ctx.node("Mul", d, sign).build(), ctx.scalar(type, 0.5)).build();
        // Where, not rounded + 0 elsewhere: that would turn round(-0) into +0.
        ctx.node("Where", tie, ctx.node("Add", rounded, sign).build(), rounded).to(ctx.output(op, 0));
    }

    /** libnd4j's sign of NaN is 0 ({@code (x > 0) - (x < 0)}), ONNX's is NaN: NaN is mapped to 0 explicitly. */
    private static void exportSign(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        DataType type = ctx.dataType(x);
        if (!type.isFPType()) {
            ctx.same(op, "Sign");
            return;
        }
        ctx.node("Where", ctx.node("IsNaN", x).build(), ctx.scalar(type, 0), ctx.node("Sign", x).build())
                .to(ctx.output(op, 0));
    }

    /**
     * log(1 + x) as libnd4j computes it: 1 + x rounded, then the log (so log1p(1e-10) is 0 in SameDiff too,
     * checked); ONNX has no Log1p.
     */
    private static void exportLog1p(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        ctx.node("Log", ctx.node("Add", ctx.scalar(ctx.dataType(x), 1), x).build()).to(ctx.output(op, 0));
    }

    /** Cast to the output variable's type (the op's iArg holds the same type in FlatBuffers' numbering). */
    private static void exportCast(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        String out = ctx.output(op, 0);
        DataType to = ctx.dataType(out);
        if (ctx.dataType(x) == to) {
            ctx.same(op, "Identity");
        } else {
            ctx.node("Cast", x).attr("to", OnnxTensors.toOnnx(to)).to(out);
        }
    }

    private static void binary(ConverterRegistry.Builder r, String op, BinaryOperator<SDVariable> f) {
        r.importer(op, 1, (n, ctx) -> legacyBinary(n, ctx, f));
        r.importer(op, 7, (n, ctx) -> ctx.setOutput(n, 0, f.apply(ctx.input(n, 0), ctx.input(n, 1))));
    }

    /**
     * Opsets 1-6: without {@code broadcast=1} both inputs have the same shape. With it, B's shape is a
     * contiguous run of A's dims, starting at {@code axis} or, without axis, ending at A's last dim
     * (which is numpy's suffix alignment). B gets trailing size-1 dims so numpy broadcasting lines it up.
     */
    static void legacyBinary(OnnxNode n, ImportContext ctx, BinaryOperator<SDVariable> f) {
        SDVariable a = ctx.input(n, 0);
        SDVariable b = ctx.input(n, 1);
        if (n.getLong("broadcast", 0) == 0) {
            long[] sa = ctx.inputShape(n, 0);
            long[] sb = ctx.inputShape(n, 1);
            if (sa.length != sb.length) {
                throw n.error("inputs of rank " + sa.length + " and " + sb.length + " without broadcast=1");
            }
            for (int k = 0; k < sa.length; k++) {
                if (sa[k] >= 0 && sb[k] >= 0 && sa[k] != sb[k]) {
                    throw n.error("input shapes " + java.util.Arrays.toString(sa) + " and "
                            + java.util.Arrays.toString(sb) + " differ without broadcast=1");
                }
            }
        } else if (n.has("axis")) {
            int rankA = ctx.inputRank(n, 0);
            int rankB = ctx.inputRank(n, 1);
            int axis = ImportContext.axis(n, n.getLong("axis", 0), rankA);
            int trailing = rankA - axis - rankB;
            if (trailing < 0) {
                throw n.error("B of rank " + rankB + " does not fit in A of rank " + rankA + " from axis " + axis);
            }
            for (int k = 0; k < trailing; k++) {
                b = ctx.sd().expandDims(b, rankB + k);
            }
        }
        ctx.setOutput(n, 0, f.apply(a, b));
    }

    /**
     * Integer division truncates toward zero (C semantics, as onnxruntime does), which is what ND4J's
     * integer divide does too (checked with negative int32/int64 operands); floating point divides.
     */
    private static SDVariable div(SDVariable a, SDVariable b) {
        return a.div(b);
    }

    /**
     * Pow's exponent may have another type than the base (opset 12 on); the result has the base's type.
     * An integer base with a floating exponent is computed in double and cast back (numpy's
     * {@code power(x, y).astype(x.dtype)}); other mixes convert the exponent to the base's type.
     */
    static SDVariable pow(ImportContext ctx, SDVariable x, SDVariable y) {
        DataType tx = x.dataType();
        DataType ty = y.dataType();
        if (!tx.isFPType() && ty.isFPType()) {
            return ctx.sd().math().pow(x.castTo(DataType.DOUBLE), y.castTo(DataType.DOUBLE)).castTo(tx);
        }
        return ctx.sd().math().pow(x, ty == tx ? y : y.castTo(tx));
    }

    static void unary(ConverterRegistry.Builder r, String op, int since, UnaryOperator<SDVariable> f) {
        r.importer(op, since, (n, ctx) -> ctx.setOutput(n, 0, f.apply(ctx.input(n, 0))));
    }

    private static void variadic(ConverterRegistry.Builder r, String op, int since, BinaryOperator<SDVariable> f) {
        r.importer(op, since, (n, ctx) -> {
            List<SDVariable> xs = ctx.inputs(n);
            SDVariable acc = xs.get(0);
            for (int i = 1; i < xs.size(); i++) acc = f.apply(acc, xs.get(i));
            ctx.setOutput(n, 0, xs.size() == 1 ? ctx.sd().identity(acc) : acc);
        });
    }
}
