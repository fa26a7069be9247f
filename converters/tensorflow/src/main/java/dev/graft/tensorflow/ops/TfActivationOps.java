package dev.graft.tensorflow.ops;

import dev.graft.onnx.ops.ActivationOps;
import dev.graft.tensorflow.TfConverterRegistry;
import dev.graft.tensorflow.TfOpFamily;
import java.util.function.BiFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** Activations; Softmax and LogSoftmax work on the last axis, as in TensorFlow. */
public final class TfActivationOps implements TfOpFamily {

    @Override
    public void register(TfConverterRegistry.Builder r) {
        act(r, "Relu", (sd, x) -> sd.nn().relu(x, 0));
        act(r, "Relu6", (sd, x) -> sd.nn().relu6(x, 0));
        act(r, "Elu", (sd, x) -> sd.nn().elu(x));
        act(r, "Selu", (sd, x) -> sd.nn().selu(x));
        act(r, "Sigmoid", (sd, x) -> sd.nn().sigmoid(x));
        act(r, "Tanh", (sd, x) -> sd.math().tanh(x));
        act(r, "Softplus", (sd, x) -> sd.nn().softplus(x));
        act(r, "Softsign", (sd, x) -> sd.nn().softsign(x));
        r.importer("LeakyRelu", (n, ctx) -> ctx.setOutput(n, 0, ctx.sd().nn().leakyRelu(ctx.input(n, 0), n.getFloat("alpha", 0.2f))));
        r.importer("Softmax", (n, ctx) -> ctx.setOutput(n, 0, ctx.sd().nn().softmax(ctx.input(n, 0), ctx.inputRank(n, 0) - 1)));
        // Written out (ActivationOps.logSoftmax): SameDiff's own op has no working gradient in ND4J 1.0.0-M2.1.
        r.importer("LogSoftmax", (n, ctx) -> ctx.setOutput(n, 0, ActivationOps.logSoftmax(ctx.input(n, 0), ctx.inputRank(n, 0) - 1)));
    }

    private static void act(TfConverterRegistry.Builder r, String op, BiFunction<SameDiff, SDVariable, SDVariable> f) {
        r.importer(op, (n, ctx) -> ctx.setOutput(n, 0, f.apply(ctx.sd(), ctx.input(n, 0))));
    }
}
