package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** Activations and Softmax/LogSoftmax (whose axis semantics changed in opset 13). */
public final class ActivationOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        ElementwiseOps.unary(r, "Relu", 6, x -> x.getSameDiff().nn().relu(x, 0));
        ElementwiseOps.unary(r, "Sigmoid", 6, x -> x.getSameDiff().nn().sigmoid(x));
        r.importer("LeakyRelu", 6, (n, ctx) ->
                ctx.setOutput(n, 0, ctx.sd().nn().leakyRelu(ctx.input(n, 0), n.getFloat("alpha", 0.01f))));
        r.importer("Softmax", 1, (n, ctx) -> softmaxLegacy(n, ctx, false));
        r.importer("Softmax", 13, (n, ctx) -> softmax13(n, ctx, false));
        r.importer("LogSoftmax", 1, (n, ctx) -> softmaxLegacy(n, ctx, true));
        r.importer("LogSoftmax", 13, (n, ctx) -> softmax13(n, ctx, true));
    }

    private static void softmax13(OnnxNode n, ImportContext ctx, boolean log) {
        SDVariable x = ctx.input(n, 0);
        int axis = ImportContext.axis(n, n.getLong("axis", -1), ctx.inputRank(n, 0));
        SameDiff sd = ctx.sd();
        ctx.setOutput(n, 0, log ? sd.nn().logSoftmax(x, axis) : sd.nn().softmax(x, axis));
    }

    /** Before opset 13 the input is seen as 2-D, [prod(dims before axis), prod(dims from axis)]. */
    private static void softmaxLegacy(OnnxNode n, ImportContext ctx, boolean log) {
        SDVariable x = ctx.input(n, 0);
        int rank = ctx.inputRank(n, 0);
        int axis = ImportContext.axis(n, n.getLong("axis", 1), rank);
        SameDiff sd = ctx.sd();
        if (axis == rank - 1) {
            ctx.setOutput(n, 0, log ? sd.nn().logSoftmax(x, axis) : sd.nn().softmax(x, axis));
            return;
        }
        SDVariable shape = sd.shape(x);
        SDVariable flat = ShapeOps.flatten2d(ctx, n.input(0), axis, rank);
        SDVariable y = log ? sd.nn().logSoftmax(flat, 1) : sd.nn().softmax(flat, 1);
        ctx.setOutput(n, 0, sd.reshape(y, shape));
    }
}
