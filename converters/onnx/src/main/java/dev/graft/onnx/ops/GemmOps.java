package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.OnnxOpFamily;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** Gemm (Y = alpha * A' * B' + beta * C) and MatMul (numpy matmul semantics). */
public final class GemmOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("Gemm", 7, (n, ctx) -> {
            SameDiff sd = ctx.sd();
            SDVariable a = ctx.input(n, 0);
            SDVariable b = ctx.input(n, 1);
            SDVariable c = ctx.optionalInput(n, 2);
            float alpha = n.getFloat("alpha", 1f);
            float beta = n.getFloat("beta", 1f);
            SDVariable y = sd.mmul(a, b, n.getLong("transA", 0) != 0, n.getLong("transB", 0) != 0, false);
            if (alpha != 1f) y = y.mul(alpha);
            if (c != null && beta != 0f) {
                y = y.add(beta == 1f ? c : c.mul(beta));
            }
            ctx.setOutput(n, 0, y);
        });
        r.importer("MatMul", 1, (n, ctx) -> ctx.setOutput(n, 0, ctx.sd().mmul(ctx.input(n, 0), ctx.input(n, 1))));
    }
}
