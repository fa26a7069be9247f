package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Elementwise arithmetic: binary ops with numpy broadcasting (opset 7 on; the legacy broadcast/axis
 * attributes of opsets 1-6 are not supported), unary math, and the variadic Max/Min/Sum/Mean.
 */
public final class ElementwiseOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        binary(r, "Add", SDVariable::add);
        binary(r, "Sub", SDVariable::sub);
        binary(r, "Mul", SDVariable::mul);
        binary(r, "Div", SDVariable::div);
        r.importer("Pow", 7, (n, ctx) -> {
            SDVariable x = ctx.input(n, 0);
            SDVariable y = ctx.input(n, 1);
            if (y.dataType() != x.dataType()) {
                y = y.castTo(x.dataType());
            }
            ctx.setOutput(n, 0, ctx.sd().math().pow(x, y));
        });
        unary(r, "Sqrt", 6, x -> x.getSameDiff().math().sqrt(x));
        unary(r, "Exp", 6, x -> x.getSameDiff().math().exp(x));
        unary(r, "Log", 6, x -> x.getSameDiff().math().log(x));
        unary(r, "Abs", 6, x -> x.getSameDiff().math().abs(x));
        unary(r, "Neg", 6, SDVariable::neg);
        unary(r, "Reciprocal", 6, x -> x.getSameDiff().math().reciprocal(x));
        unary(r, "Floor", 6, x -> x.getSameDiff().math().floor(x));
        unary(r, "Ceil", 6, x -> x.getSameDiff().math().ceil(x));
        unary(r, "Erf", 9, x -> x.getSameDiff().math().erf(x));
        unary(r, "Sin", 7, x -> x.getSameDiff().math().sin(x));
        unary(r, "Cos", 7, x -> x.getSameDiff().math().cos(x));
        unary(r, "Tanh", 6, x -> x.getSameDiff().math().tanh(x));
        variadic(r, "Max", 8, (a, b) -> a.getSameDiff().math().max(a, b));
        variadic(r, "Min", 8, (a, b) -> a.getSameDiff().math().min(a, b));
        variadic(r, "Sum", 8, SDVariable::add);
        r.importer("Mean", 8, (n, ctx) -> {
            List<SDVariable> xs = ctx.inputs(n);
            SDVariable acc = xs.get(0);
            for (int i = 1; i < xs.size(); i++) acc = acc.add(xs.get(i));
            ctx.setOutput(n, 0, xs.size() == 1 ? acc : acc.div(xs.size()));
        });
    }

    private static void binary(ConverterRegistry.Builder r, String op, BinaryOperator<SDVariable> f) {
        r.importer(op, 7, (n, ctx) -> ctx.setOutput(n, 0, f.apply(ctx.input(n, 0), ctx.input(n, 1))));
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

    static SameDiff sd(ImportContext ctx) {
        return ctx.sd();
    }

    static OnnxNode unused(OnnxNode n) {
        return n;
    }
}
