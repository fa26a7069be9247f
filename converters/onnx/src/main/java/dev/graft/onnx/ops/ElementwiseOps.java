package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;

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

        // SameDiff's pairwise ops broadcast as numpy does, as ONNX's do from opset 7.
        r.exporter("add", (op, ctx) -> ctx.same(op, "Add"));
        r.exporter("subtract", (op, ctx) -> ctx.same(op, "Sub"));
        r.exporter("multiply", (op, ctx) -> ctx.same(op, "Mul"));
        r.exporter("divide", (op, ctx) -> ctx.same(op, "Div"));
        r.exporter("identity", (op, ctx) -> ctx.same(op, "Identity"));
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
