package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Activations and Softmax/LogSoftmax (whose axis semantics changed in opset 13).
 *
 * <p>Activations with attributes (Elu, Selu, Celu, HardSigmoid...) are built from elementwise primitives
 * rather than ND4J's fixed-constant versions, so every attribute value is honoured exactly and gradients
 * flow through ordinary ops. Opset 1 versions differ from opset 6 only by the legacy {@code consumed_inputs}
 * attribute (an in-place hint without effect on the result), so one entry from opset 1 covers both.
 *
 * <p>Export covers the SameDiff activations a hand-built head uses (sd.nn relu ... logSoftmax, dropout), each as
 * the ONNX op computing what libnd4j computes; where no ONNX op does (gelu, precise_gelu, swish) it is written out.
 */
public final class ActivationOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        ElementwiseOps.unary(r, "Relu", 1, x -> x.getSameDiff().nn().relu(x, 0));
        ElementwiseOps.unary(r, "Sigmoid", 1, x -> x.getSameDiff().nn().sigmoid(x));
        r.importer("LeakyRelu", 1, (n, ctx) ->
                ctx.setOutput(n, 0, ctx.sd().nn().leakyRelu(ctx.input(n, 0), n.getFloat("alpha", 0.01f))));
        r.importer("PRelu", 1, ActivationOps::preluLegacy);
        r.importer("PRelu", 7, (n, ctx) -> ctx.setOutput(n, 0, prelu(ctx.input(n, 0), ctx.input(n, 1))));
        r.importer("Elu", 1, (n, ctx) -> ctx.setOutput(n, 0, elu(ctx.input(n, 0), n.getFloat("alpha", 1f))));
        r.importer("Selu", 1, ActivationOps::selu);
        r.importer("Celu", 12, ActivationOps::celu);
        r.importer("HardSigmoid", 1, (n, ctx) -> ctx.setOutput(n, 0,
                hardSigmoid(ctx.input(n, 0), n.getFloat("alpha", 0.2f), n.getFloat("beta", 0.5f))));
        r.importer("HardSwish", 14, (n, ctx) -> {
            SDVariable x = ctx.input(n, 0);
            ctx.setOutput(n, 0, x.mul(hardSigmoid(x, 1f / 6f, 0.5f)));
        });
        ElementwiseOps.unary(r, "Softplus", 1, ActivationOps::softplus);
        ElementwiseOps.unary(r, "Softsign", 1, x -> x.getSameDiff().nn().softsign(x));
        r.importer("Gelu", 20, ActivationOps::gelu);
        r.importer("Clip", 1, ActivationOps::clipLegacy);
        r.importer("Clip", 11, ActivationOps::clip11);
        r.importer("Softmax", 1, (n, ctx) -> softmaxLegacy(n, ctx, false));
        r.importer("Softmax", 13, (n, ctx) -> softmax13(n, ctx, false));
        r.importer("LogSoftmax", 1, (n, ctx) -> softmaxLegacy(n, ctx, true));
        r.importer("LogSoftmax", 13, (n, ctx) -> softmax13(n, ctx, true));

        r.exporter("sigmoid", (op, ctx) -> ctx.same(op, "Sigmoid"));
        r.exporter("softsign", (op, ctx) -> ctx.same(op, "Softsign"));
        r.exporter("softplus", (op, ctx) -> ctx.same(op, "Softplus"));
        // ND4J's SELU uses the constants of the paper, which ONNX's Selu defaults are (as floats).
        r.exporter("selu", (op, ctx) -> ctx.same(op, "Selu"));
        r.exporter("relu", ActivationOps::exportRelu);
        r.exporter("relu6", ActivationOps::exportRelu6);
        r.exporter("leakyrelu", (op, ctx) -> ctx.node("LeakyRelu", ctx.input(op, 0))
                .attr("alpha", (float) scalarOperand(op)).to(ctx.output(op, 0)));
        r.exporter("elu", (op, ctx) -> {
            double[] t = ExportContext.floatArgs(op);
            ctx.node("Elu", ctx.input(op, 0)).attr("alpha", t.length > 0 ? (float) t[0] : 1f).to(ctx.output(op, 0));
        });
        // libnd4j: min(1, max(0, 0.2 x + 0.5)), ONNX's HardSigmoid with its default alpha and beta.
        r.exporter("hard_sigmoid", (op, ctx) -> ctx.node("HardSigmoid", ctx.input(op, 0))
                .attr("alpha", 0.2f).attr("beta", 0.5f).to(ctx.output(op, 0)));
        r.exporter("hardtanh", (op, ctx) -> clip(op, ctx, -1, 1));
        r.exporter("ClipByValue", (op, ctx) -> {
            double[] t = ExportContext.floatArgs(op);
            if (t.length < 2) throw ctx.error(op, "has no clipping bounds");
            clip(op, ctx, t[0], t[1]);
        });
        r.exporter("swish", ActivationOps::exportSwish);
        r.exporter("gelu", ActivationOps::exportGelu);
        r.exporter("precise_gelu", ActivationOps::exportPreciseGelu);
        r.exporter("softmax", (op, ctx) -> softmaxNode(op, ctx, "Softmax"));
        r.exporter("log_softmax", (op, ctx) -> softmaxNode(op, ctx, "LogSoftmax"));
        r.exporter("dropout", ActivationOps::exportDropout);
        // libnd4j's dropout_inverted keeps an element with probability p and divides it by p while training:
        // the expected value is the input, so inference passes the input through.
        r.exporter("dropout_inverted", (op, ctx) -> ctx.node("Identity", ctx.input(op, 0)).to(ctx.output(op, 0)));
    }

    // ---------------------------------------------------------------- export

    /** The operand of a legacy scalar op (relu's cutoff, leakyrelu's alpha). */
    private static double scalarOperand(SameDiffOp op) {
        Object[] extra = ExportContext.extraArgs(op);
        if (extra.length > 0 && extra[0] instanceof Number n) return n.doubleValue();
        return ExportContext.scalarArg(op);
    }

    /** libnd4j's relu with a cutoff is max(x, cutoff): Relu for cutoff 0, Max with the cutoff otherwise. */
    private static void exportRelu(SameDiffOp op, ExportContext ctx) {
        double cutoff = ExportContext.scalarArg(op);
        if (cutoff == 0) {
            ctx.same(op, "Relu");
            return;
        }
        String x = ctx.input(op, 0);
        ctx.node("Max", x, ctx.scalar(ctx.dataType(x), cutoff)).to(ctx.output(op, 0));
    }

    /** relu6 with a cutoff: min(max(x, cutoff), 6), one Clip (which also gives 6 when cutoff > 6). */
    private static void exportRelu6(SameDiffOp op, ExportContext ctx) {
        clip(op, ctx, ExportContext.scalarArg(op), 6);
    }

    /** Clip-11+ with scalar bounds of the input's element type. */
    private static void clip(SameDiffOp op, ExportContext ctx, double min, double max) {
        String x = ctx.input(op, 0);
        DataType type = ctx.dataType(x);
        ctx.node("Clip", x, ctx.scalar(type, min), ctx.scalar(type, max)).to(ctx.output(op, 0));
    }

    /** x * sigmoid(x): ONNX has no Swish before opset 24. */
    private static void exportSwish(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        ctx.node("Mul", x, ctx.node("Sigmoid", x).build()).to(ctx.output(op, 0));
    }

    /**
     * ND4J's gelu is the sigmoid approximation x * sigmoid(1.702 x) (libnd4j's GELU transform), which no ONNX
     * Gelu mode computes: written out.
     */
    private static void exportGelu(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        String scaled = ctx.node("Mul", x, ctx.scalar(ctx.dataType(x), 1.702)).build();
        ctx.node("Mul", x, ctx.node("Sigmoid", scaled).build()).to(ctx.output(op, 0));
    }

    /**
     * ND4J's precise_gelu (libnd4j's PreciseGELU transform) is 0.5 x (1 + tanh(sqrt(2/pi) (x + (0.044715 x)^3))):
     * the tanh approximation, except that the cube takes 0.044715 inside (tanh's approximation has 0.044715 x^3).
     * Measured against ND4J, not assumed; neither ONNX Gelu mode (opset 20) computes it, so it is written out
     * as it is computed, since the exported model must give what the graph was trained with.
     */
    private static void exportPreciseGelu(SameDiffOp op, ExportContext ctx) {
        String x = ctx.input(op, 0);
        DataType type = ctx.dataType(x);
        String a = ctx.node("Mul", x, ctx.scalar(type, 0.044715)).build();
        String cube = ctx.node("Mul", ctx.node("Mul", a, a).build(), a).build();
        String inner = ctx.node("Mul", ctx.node("Add", x, cube).build(), ctx.scalar(type, Math.sqrt(2.0 / Math.PI))).build();
        String onePlus = ctx.node("Add", ctx.node("Tanh", inner).build(), ctx.scalar(type, 1.0)).build();
        String half = ctx.node("Mul", x, ctx.scalar(type, 0.5)).build();
        ctx.node("Mul", half, onePlus).to(ctx.output(op, 0));
    }

    /** Softmax/LogSoftmax over one axis (opset 13+ semantics); ND4J's default is the last axis. */
    private static void softmaxNode(SameDiffOp op, ExportContext ctx, String type) {
        long[] dims = ExportContext.intArgs(op);
        ctx.node(type, ctx.input(op, 0)).attr("axis", dims.length > 0 ? dims[0] : -1L).to(ctx.output(op, 0));
    }

    /**
     * ND4J's (legacy) dropout keeps an element with probability p and does not rescale it (measured: the mean of
     * dropout(ones, 0.8) is 0.8), so its inference form is the expected value, p * x, as in the original dropout
     * paper; p = 1 is the identity.
     */
    private static void exportDropout(SameDiffOp op, ExportContext ctx) {
        Object[] extra = ExportContext.extraArgs(op);
        if (extra.length == 0 || !(extra[0] instanceof Number p)) throw ctx.error(op, "has no retain probability");
        String x = ctx.input(op, 0);
        if (p.doubleValue() == 1.0) {
            ctx.node("Identity", x).to(ctx.output(op, 0));
        } else {
            ctx.node("Mul", x, ctx.scalar(ctx.dataType(x), p.doubleValue())).to(ctx.output(op, 0));
        }
    }

    /** max(x, 0): the positive part. */
    private static SDVariable pos(SDVariable x) {
        return x.getSameDiff().nn().relu(x, 0);
    }

    /** min(x, 0): the negative part. */
    private static SDVariable neg(SDVariable x) {
        return x.sub(pos(x));
    }

    /** y = max(x, 0) + slope * min(x, 0); slope is usually a trainable weight, so it stays a graph input. */
    private static SDVariable prelu(SDVariable x, SDVariable slope) {
        if (slope.dataType() != x.dataType()) {
            slope = slope.castTo(x.dataType());
        }
        return pos(x).add(neg(x).mul(slope));
    }

    /**
     * Opsets 1-6 predate numpy broadcasting: the slope has one element (shared) or one per channel (axis
     * 1, as the old PyTorch exporter emits for PReLU(num_parameters=C)), or the input's full shape.
     */
    private static void preluLegacy(OnnxNode n, ImportContext ctx) {
        SDVariable x = ctx.input(n, 0);
        SDVariable slope = ctx.input(n, 1);
        int rank = ctx.inputRank(n, 0);
        long[] slopeShape = ctx.inputShape(n, 1);
        if (slopeShape.length == 1 && rank > 2 && slopeShape[0] != 1) {
            long c = ctx.inputShape(n, 0)[1];
            if (c >= 0 && c != slopeShape[0]) {
                throw n.error("slope has " + slopeShape[0] + " elements but the input has " + c + " channels");
            }
            // [C] -> [C, 1, ..., 1] so that it lines up with axis 1 of [N, C, D1, ...].
            for (int k = 0; k < rank - 2; k++) {
                slope = ctx.sd().expandDims(slope, k + 1);
            }
        }
        ctx.setOutput(n, 0, prelu(x, slope));
    }

    /** y = x for x > 0, alpha * (exp(x) - 1) otherwise; exp only sees min(x, 0) so it cannot overflow. */
    private static SDVariable elu(SDVariable x, float alpha) {
        SameDiff sd = x.getSameDiff();
        SDVariable negPart = sd.math().exp(neg(x)).sub(1.0);
        return pos(x).add(alpha == 1f ? negPart : negPart.mul(alpha));
    }

    private static void selu(OnnxNode n, ImportContext ctx) {
        float alpha = n.getFloat("alpha", 1.67326319217681884765625f);
        float gamma = n.getFloat("gamma", 1.05070102214813232421875f);
        ctx.setOutput(n, 0, elu(ctx.input(n, 0), alpha).mul(gamma));
    }

    /** y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) = max(0, x) + alpha * (exp(min(0, x) / alpha) - 1). */
    private static void celu(OnnxNode n, ImportContext ctx) {
        SDVariable x = ctx.input(n, 0);
        float alpha = n.getFloat("alpha", 1f);
        n.unsupportedIf(alpha == 0f, "alpha=0");
        SDVariable negPart = ctx.sd().math().exp(neg(x).div(alpha)).sub(1.0).mul(alpha);
        ctx.setOutput(n, 0, pos(x).add(negPart));
    }

    /**
     * y = log(1 + exp(x)), as max(x, 0) + log1p(exp(-|x|)): ND4J's softplus evaluates exp(x) directly
     * and gives infinity from x of about 89 (float) on.
     */
    private static SDVariable softplus(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        return pos(x).add(sd.math().log1p(sd.math().exp(sd.math().abs(x).neg())));
    }

    /** y = max(0, min(1, alpha * x + beta)). */
    private static SDVariable hardSigmoid(SDVariable x, float alpha, float beta) {
        return x.getSameDiff().math().clipByValue(x.mul(alpha).add(beta), 0, 1);
    }

    /** Gelu (opset 20): exact erf form, or the tanh approximation when approximate="tanh". */
    private static void gelu(OnnxNode n, ImportContext ctx) {
        SDVariable x = ctx.input(n, 0);
        SameDiff sd = ctx.sd();
        String approximate = n.getString("approximate", "none");
        SDVariable inner;
        switch (approximate) {
            case "none" -> inner = sd.math().erf(x.mul(1.0 / Math.sqrt(2.0)));
            case "tanh" -> inner = sd.math().tanh(x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2.0 / Math.PI)));
            default -> throw n.error("approximate='" + approximate + "' is not supported");
        }
        ctx.setOutput(n, 0, x.mul(0.5).mul(inner.add(1.0)));
    }

    /** Before opset 11 the bounds are float attributes, each defaulting to no bound. */
    private static void clipLegacy(OnnxNode n, ImportContext ctx) {
        SDVariable x = ctx.input(n, 0);
        Double min = n.has("min") ? (double) n.getFloat("min", 0f) : null;
        Double max = n.has("max") ? (double) n.getFloat("max", 0f) : null;
        ctx.setOutput(n, 0, clipStatic(ctx, x, min, max));
    }

    /**
     * From opset 11 the bounds are optional scalar inputs. Constant bounds become numbers; bounds computed
     * in the graph or trainable become elementwise max/min, which also keeps gradients w.r.t. them.
     */
    private static void clip11(OnnxNode n, ImportContext ctx) {
        SDVariable x = ctx.input(n, 0);
        // Trainable (float initializer) bounds are variables, never static.
        boolean minStatic = !n.hasInput(1) || ctx.isStaticInput(n, 1);
        boolean maxStatic = !n.hasInput(2) || ctx.isStaticInput(n, 2);
        if (minStatic && maxStatic) {
            Double min = n.hasInput(1) ? scalarOf(n, ctx.constantInput(n, 1, "min")) : null;
            Double max = n.hasInput(2) ? scalarOf(n, ctx.constantInput(n, 2, "max")) : null;
            ctx.setOutput(n, 0, clipStatic(ctx, x, min, max));
            return;
        }
        SameDiff sd = ctx.sd();
        SDVariable y = x;
        // ONNX's order: max with min first, then min with max (so min > max gives max everywhere).
        if (n.hasInput(1)) y = sd.math().max(y, sameType(ctx.input(n, 1), x));
        if (n.hasInput(2)) y = sd.math().min(y, sameType(ctx.input(n, 2), x));
        ctx.setOutput(n, 0, y);
    }

    private static SDVariable sameType(SDVariable v, SDVariable like) {
        return v.dataType() == like.dataType() ? v : v.castTo(like.dataType());
    }

    private static Double scalarOf(OnnxNode n, INDArray a) {
        if (a.length() != 1) {
            throw n.error("Clip bounds must be scalars, got shape " + java.util.Arrays.toString(a.shape()));
        }
        return a.castTo(DataType.DOUBLE).getDouble(0);
    }

    /** Clip with import-time bounds (null: unbounded on that side), applied in the input's own type. */
    private static SDVariable clipStatic(ImportContext ctx, SDVariable x, Double min, Double max) {
        SameDiff sd = ctx.sd();
        if (min == null && max == null) {
            return sd.identity(x);
        }
        if (min != null && max != null && min == 0 && max == 6 && x.dataType() == DataType.FLOAT) {
            // ReLU6 (MobileNet's Clip(0, 6)): libnd4j's relu6 kernel is about 3x faster than clip_by_value
            // (measured on [32, 96, 16, 16]: 1.6-2.1 ms against 5.8-6.2 ms forward), and Clip is one of the most
            // frequent ops of mobile networks.
            return sd.nn().relu6(x, 0);
        }
        if (min != null && max != null && min <= max && x.dataType().isFPType()) {
            return sd.math().clipByValue(x, min, max);
        }
        // Integer inputs (clip_by_value works in floating point) and min > max: elementwise max then min.
        SDVariable y = x;
        if (min != null) y = sd.math().max(y, ctx.scalar(x.dataType(), min));
        if (max != null) y = sd.math().min(y, ctx.scalar(x.dataType(), max));
        return y;
    }

    private static void softmax13(OnnxNode n, ImportContext ctx, boolean log) {
        SDVariable x = ctx.input(n, 0);
        int axis = ImportContext.axis(n, n.getLong("axis", -1), ctx.inputRank(n, 0));
        SameDiff sd = ctx.sd();
        ctx.setOutput(n, 0, log ? logSoftmax(x, axis) : sd.nn().softmax(x, axis));
    }

    /**
     * log(softmax(x)) = (x - max) - log(sum(exp(x - max))), written out: SameDiff's own LogSoftMax has no
     * working gradient in ND4J 1.0.0-M2.1 ("Error setting property for function LogSoftMax"), and imported
     * graphs must train. Subtracting the maximum keeps exp from overflowing.
     */
    public static SDVariable logSoftmax(SDVariable x, int axis) {
        SameDiff sd = x.getSameDiff();
        SDVariable shifted = x.sub(sd.max(x, true, axis));
        return shifted.sub(sd.math().log(sd.math().exp(shifted).sum(true, axis)));
    }

    /** Before opset 13 the input is seen as 2-D, [prod(dims before axis), prod(dims from axis)]. */
    private static void softmaxLegacy(OnnxNode n, ImportContext ctx, boolean log) {
        SDVariable x = ctx.input(n, 0);
        int rank = ctx.inputRank(n, 0);
        int axis = ImportContext.axis(n, n.getLong("axis", 1), rank);
        SameDiff sd = ctx.sd();
        if (axis == rank - 1) {
            ctx.setOutput(n, 0, log ? logSoftmax(x, axis) : sd.nn().softmax(x, axis));
            return;
        }
        SDVariable shape = sd.shape(x);
        SDVariable flat = ShapeOps.flatten2d(ctx, n.input(0), axis, rank);
        SDVariable y = log ? logSoftmax(flat, 1) : sd.nn().softmax(flat, 1);
        ctx.setOutput(n, 0, sd.reshape(y, shape));
    }
}
