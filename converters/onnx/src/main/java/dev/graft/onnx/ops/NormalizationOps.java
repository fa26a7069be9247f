package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import org.nd4j.autodiff.samediff.SDVariable;

/** BatchNormalization in inference form (running statistics), over axis 1. */
public final class NormalizationOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("BatchNormalization", 1, NormalizationOps::batchNorm);
    }

    private static void batchNorm(OnnxNode n, ImportContext ctx) {
        n.unsupportedIf(n.getLong("training_mode", 0) != 0, "BatchNormalization with training_mode=1");
        SDVariable x = ctx.input(n, 0);
        SDVariable scale = ctx.input(n, 1);
        SDVariable bias = ctx.input(n, 2);
        SDVariable mean = ctx.input(n, 3);
        SDVariable var = ctx.input(n, 4);
        double eps = n.getFloat("epsilon", 1e-5f);
        ctx.setOutput(n, 0, ctx.sd().nn().batchNorm(x, mean, var, scale, bias, eps, 1));
    }
}
