package dev.graft.tensorflow.ops;

import dev.graft.onnx.ops.GemmOps;
import dev.graft.tensorflow.TfConverterRegistry;
import dev.graft.tensorflow.TfImportContext;
import dev.graft.tensorflow.TfNode;
import dev.graft.tensorflow.TfOpFamily;
import dev.graft.tensorflow.TfTensors;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Elementwise arithmetic (numpy broadcasting, as SameDiff's pairwise ops do), unary math, MatMul,
 * BatchMatMul and Cast. The export halves are the ONNX families' (these create ordinary SameDiff ops).
 */
public final class TfMathOps implements TfOpFamily {

    @Override
    public void register(TfConverterRegistry.Builder r) {
        binary(r, "Add", SDVariable::add);
        binary(r, "AddV2", SDVariable::add);
        binary(r, "Sub", SDVariable::sub);
        binary(r, "Mul", SDVariable::mul);
        binary(r, "RealDiv", SDVariable::div);
        binary(r, "Div", SDVariable::div);
        binary(r, "Maximum", (a, b) -> a.getSameDiff().math().max(a, b));
        binary(r, "Minimum", (a, b) -> a.getSameDiff().math().min(a, b));
        binary(r, "Pow", (a, b) -> a.getSameDiff().math().pow(a, b));
        binary(r, "SquaredDifference", (a, b) -> a.getSameDiff().math().squaredDifference(a, b));
        unary(r, "Rsqrt", x -> x.getSameDiff().math().rsqrt(x));
        unary(r, "Sqrt", x -> x.getSameDiff().math().sqrt(x));
        unary(r, "Square", x -> x.getSameDiff().math().square(x));
        unary(r, "Exp", x -> x.getSameDiff().math().exp(x));
        unary(r, "Log", x -> x.getSameDiff().math().log(x));
        unary(r, "Neg", x -> x.getSameDiff().math().neg(x));
        unary(r, "Abs", x -> x.getSameDiff().math().abs(x));
        unary(r, "Erf", x -> x.getSameDiff().math().erf(x));
        unary(r, "Floor", x -> x.getSameDiff().math().floor(x));
        unary(r, "Reciprocal", x -> x.getSameDiff().math().reciprocal(x));
        r.importer("MatMul", TfMathOps::matMul);
        r.importer("BatchMatMul", TfMathOps::batchMatMul);
        r.importer("BatchMatMulV2", TfMathOps::batchMatMul);
        r.importer("BatchMatMulV3", TfMathOps::batchMatMul);
        r.importer("Cast", (n, ctx) -> {
            SDVariable x = ctx.input(n, 0);
            var to = TfTensors.toNd4j(n.getType("DstT"), n.describe());
            ctx.setOutput(n, 0, x.dataType() == to ? ctx.sd().identity(x) : x.castTo(to));
        });
    }

    private static void binary(TfConverterRegistry.Builder r, String op, BinaryOperator<SDVariable> f) {
        r.importer(op, (n, ctx) -> ctx.setOutput(n, 0, f.apply(ctx.input(n, 0), ctx.input(n, 1))));
    }

    private static void unary(TfConverterRegistry.Builder r, String op, UnaryOperator<SDVariable> f) {
        r.importer(op, (n, ctx) -> ctx.setOutput(n, 0, f.apply(ctx.input(n, 0))));
    }

    private static void matMul(TfNode n, TfImportContext ctx) {
        if (ctx.inputRank(n, 0) != 2 || ctx.inputRank(n, 1) != 2) throw n.error("MatMul needs two matrices");
        SameDiff sd = ctx.sd();
        ctx.setOutput(n, 0, sd.mmul(ctx.input(n, 0), ctx.input(n, 1),
                n.getBool("transpose_a", false), n.getBool("transpose_b", false), false));
    }

    /** adj_x / adj_y transpose the last two axes (the types graft takes are real, so adjoint = transpose). */
    private static void batchMatMul(TfNode n, TfImportContext ctx) {
        SDVariable x = ctx.input(n, 0);
        SDVariable y = ctx.input(n, 1);
        long[] xs = ctx.inputShape(n, 0);
        long[] ys = ctx.inputShape(n, 1);
        boolean adjX = n.getBool("adj_x", false);
        boolean adjY = n.getBool("adj_y", false);
        SameDiff sd = ctx.sd();
        if (xs.length < 2 || ys.length < 2) throw n.error("operands of rank " + xs.length + " and " + ys.length + ", expected >= 2");
        if (xs.length == 2 && ys.length == 2) {
            ctx.setOutput(n, 0, sd.mmul(x, y, adjX, adjY, false));
            return;
        }
        if (adjX) {
            x = sd.permute(x, lastTwoSwapped(xs.length));
            xs = swapLastTwo(xs);
        }
        if (adjY) {
            y = sd.permute(y, lastTwoSwapped(ys.length));
            ys = swapLastTwo(ys);
        }
        // Batch dims broadcast as in numpy (BatchMatMulV2); GemmOps does that for ONNX's MatMul too.
        ctx.setOutput(n, 0, GemmOps.numpyMatMul(sd, x, y, xs, ys));
    }

    private static long[] swapLastTwo(long[] s) {
        long[] r = s.clone();
        r[s.length - 1] = s[s.length - 2];
        r[s.length - 2] = s[s.length - 1];
        return r;
    }

    private static int[] lastTwoSwapped(int rank) {
        int[] p = new int[rank];
        for (int i = 0; i < rank; i++) p[i] = i;
        p[rank - 1] = rank - 2;
        p[rank - 2] = rank - 1;
        return p;
    }
}
