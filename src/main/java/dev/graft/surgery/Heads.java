package dev.graft.surgery;

import dev.graft.GraftException;
import dev.graft.GraftModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Builds heads into a SameDiff graph. Each head has two branches sharing its weights: the inference branch
 * (the head's public output, what is exported) and a training branch with dropout, whose masks are
 * placeholders fed from a seeded generator (ND4J 1.0.0-M2.1's dropout ops always apply, have no gradient,
 * and their randomness cannot be seeded; a fed mask is exact and makes resumed training reproducible).
 */
public final class Heads {

    private Heads() {
    }

    /** A dropout mask placeholder of the training branch and the number of units it masks. */
    public record Mask(String name, long units) {
    }

    /**
     * A head as built: the tensor it grows from and its width after flattening; names of its public output,
     * logits (inference and training branch), dropout masks and weights.
     */
    public record AttachedHead(HeadSpec spec, String from, long features, boolean flattened, String output,
                               String logits, String trainLogits, List<Mask> masks, List<String> variables) {
        public AttachedHead {
            masks = List.copyOf(masks);
            variables = List.copyOf(variables);
        }

        /** Placeholder of this head's labels. */
        public String labels() {
            return spec.name() + "/labels";
        }
    }

    /** Grafts the head onto its tensor in the model's graph; returns the model with the head's output added. */
    public static GraftModel attach(GraftModel model, HeadSpec spec) {
        SameDiff sd = model.sameDiff();
        String from = spec.from() != null ? spec.from() : model.outputNames().get(0);
        if (!sd.hasVariable(from)) {
            throw new GraftException("head '" + spec.name() + "': unknown tensor '" + from + "' to grow from");
        }
        if (sd.hasVariable(spec.name()) || model.heads().stream().anyMatch(h -> h.spec().name().equals(spec.name()))) {
            throw new GraftException("head '" + spec.name() + "': the graph already has a tensor or head of that name");
        }
        long[] shape = probeShape(model, from);
        long features = 1;
        for (int d = 1; d < shape.length; d++) features *= shape[d];
        if (shape.length < 2) {
            throw new GraftException("head '" + spec.name() + "': tensor '" + from + "' has rank " + shape.length
                    + "; a dense head needs [batch, features...]");
        }
        SDVariable x = sd.getVariable(from);
        boolean flatten = shape.length > 2;
        if (flatten) {
            // A dense head on a feature map: flatten all but the batch dim (as Keras' Flatten).
            x = sd.reshape(spec.name() + "/flatten", x, sd.constant(spec.name() + "/flat_shape", Nd4j.createFromArray(-1L, features)));
        }
        SplittableRandom random = new SplittableRandom(spec.seed());
        AttachedHead head = build(sd, x, spec, from, features, flatten,
                (name, dims) -> initialWeights(name, dims, spec, random));
        SameDiffState.reset(sd);
        List<String> outputs = new ArrayList<>(model.outputNames());
        if (outputs.size() == 1 && model.heads().isEmpty() && !outputs.contains(spec.name())) {
            // The first head replaces the cut tensor as the model's output: the trunk is internal now.
            outputs.clear();
        }
        outputs.add(head.output());
        return model.withHeads(appended(model.heads(), head)).withOutputs(outputs);
    }

    private static List<AttachedHead> appended(List<AttachedHead> heads, AttachedHead h) {
        List<AttachedHead> all = new ArrayList<>(heads);
        all.add(h);
        return all;
    }

    /**
     * Builds a head on the 2-D tensor {@code x} in {@code sd}; {@code weights} gives each weight's value by
     * name and shape (fresh values when grafting, the trained arrays when rebuilding a head elsewhere).
     */
    public static AttachedHead build(SameDiff sd, SDVariable x, HeadSpec spec, String from, long features, boolean flattened,
                                     BiFunction<String, long[], INDArray> weights) {
        String n = spec.name();
        List<String> vars = new ArrayList<>();
        List<Mask> masks = new ArrayList<>();
        SDVariable h = x;
        SDVariable t = x;
        long width = features;
        int layer = 0;
        for (int units : spec.layers()) {
            String w = n + "/dense" + layer + "/W";
            String b = n + "/dense" + layer + "/b";
            SDVariable wv = sd.var(w, weights.apply(w, new long[]{width, units}));
            SDVariable bv = sd.var(b, weights.apply(b, new long[]{units}));
            vars.add(w);
            vars.add(b);
            h = activation(sd, sd.mmul(h, wv).add(bv), spec.activation());
            t = activation(sd, sd.mmul(t, wv).add(bv), spec.activation());
            if (spec.dropout() > 0) {
                Mask m = new Mask(n + "/dropout" + layer, units);
                t = t.mul(sd.placeHolder(m.name(), DataType.FLOAT, -1, units));
                masks.add(m);
            }
            width = units;
            layer++;
        }
        if (spec.layers().isEmpty() && spec.dropout() > 0) {
            // No hidden layer: drop input features instead.
            Mask m = new Mask(n + "/dropout_in", width);
            t = t.mul(sd.placeHolder(m.name(), DataType.FLOAT, -1, width));
            masks.add(m);
        }
        String w = n + "/out/W";
        String b = n + "/out/b";
        SDVariable wv = sd.var(w, weights.apply(w, new long[]{width, spec.size()}));
        SDVariable bv = sd.var(b, weights.apply(b, new long[]{spec.size()}));
        vars.add(w);
        vars.add(b);
        SDVariable logits = sd.mmul(h, wv).add(n + "/logits", bv);
        SDVariable trainLogits = sd.mmul(t, wv).add(n + "/train_logits", bv);
        SDVariable out = switch (spec.output()) {
            case SOFTMAX -> sd.nn.softmax(n, logits, 1);
            case SIGMOID -> sd.nn.sigmoid(n, logits);
            case LINEAR -> sd.identity(n, logits);
        };
        return new AttachedHead(spec, from, features, flattened, out.name(), logits.name(), trainLogits.name(), masks, vars);
    }

    private static SDVariable activation(SameDiff sd, SDVariable z, String name) {
        return switch (name) {
            case "relu" -> sd.nn.relu(z, 0);
            case "leaky_relu" -> sd.nn.leakyRelu(z, 0.01);
            case "elu" -> sd.nn.elu(z);
            case "selu" -> sd.nn.selu(z);
            case "tanh" -> sd.math.tanh(z);
            case "sigmoid" -> sd.nn.sigmoid(z);
            case "swish" -> z.mul(sd.nn.sigmoid(z));
            case "softplus" -> sd.nn.softplus(z);
            case "none" -> z;
            default -> throw new GraftException("unknown activation '" + name + "'");
        };
    }

    /**
     * He-normal (std sqrt(2 / fan_in)) for weights before ReLU-like activations, Glorot-uniform
     * (limit sqrt(6 / (fan_in + fan_out))) for the output layer and other activations; zero biases.
     * Drawn with java.util.SplittableRandom so that the same seed gives the same head on any backend.
     */
    private static INDArray initialWeights(String name, long[] dims, HeadSpec spec, SplittableRandom random) {
        if (dims.length == 1) return Nd4j.zeros(DataType.FLOAT, dims);
        int fanIn = (int) dims[0];
        int fanOut = (int) dims[1];
        boolean hidden = !name.endsWith("/out/W");
        boolean reluLike = hidden && List.of("relu", "leaky_relu", "elu", "selu", "swish", "softplus").contains(spec.activation());
        float[] v = new float[fanIn * fanOut];
        if (reluLike) {
            double std = Math.sqrt(2.0 / fanIn);
            for (int i = 0; i < v.length; i++) v[i] = (float) (gaussian(random) * std);
        } else {
            double limit = Math.sqrt(6.0 / (fanIn + fanOut));
            for (int i = 0; i < v.length; i++) v[i] = (float) ((random.nextDouble() * 2 - 1) * limit);
        }
        return Nd4j.create(v, dims, 'c');
    }

    private static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(Math.max(u1, 1e-300))) * Math.cos(2 * Math.PI * u2);
    }

    /** The tensor's shape at batch 2 on zero inputs (the head's width must be fixed). */
    static long[] probeShape(GraftModel model, String tensor) {
        Map<String, INDArray> feeds = new java.util.LinkedHashMap<>();
        for (var in : model.inputs()) {
            long[] s = in.shape();
            if (s == null) throw new GraftException("input '" + in.name() + "' has no declared shape; cannot size the head");
            for (int d = 0; d < s.length; d++) {
                if (s[d] < 0) {
                    if (d == 0) s[d] = 2;
                    else throw new GraftException("input '" + in.name() + "' has dynamic dim " + d + " (" + in.shapeText()
                            + "): a dense head needs fixed feature sizes");
                }
            }
            feeds.put(in.name(), Nd4j.zeros(in.dataType(), s));
        }
        return model.run(feeds, List.of(tensor)).get(tensor).shape();
    }
}
