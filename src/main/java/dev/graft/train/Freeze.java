package dev.graft.train;

import dev.graft.GraftException;
import dev.graft.GraftModel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;

/**
 * What of the trunk trains; heads always train. {@code all}: only the heads; {@code none}: everything;
 * {@code until:T}: the weights the tensor T depends on stay, later ones train; {@code last:K}: the last K
 * layers with weights (source nodes, in graph order) train too. BatchNormalization's running mean and
 * variance never change by gradient; its scale and bias follow the rule above when {@code bn} is
 * {@code train} and stay when it is {@code frozen} (the default: a frozen BatchNormalization computes with
 * its stored statistics, as at inference). With {@code stats}, scale and bias stay, and the running
 * statistics are re-estimated on the training data (see {@link FineTuner}).
 */
public record Freeze(Mode mode, String until, int last, BatchNorm batchNorm) {

    public enum Mode { ALL, NONE, UNTIL, LAST }

    public enum BatchNorm { FROZEN, STATS, TRAIN }

    public Freeze {
        if (mode == Mode.LAST && last < 0) throw new GraftException("freeze last:" + last + ": K must be >= 0");
        if (mode == Mode.UNTIL && (until == null || until.isBlank())) throw new GraftException("freeze until: name a tensor");
    }

    public static Freeze all() {
        return new Freeze(Mode.ALL, null, 0, BatchNorm.FROZEN);
    }

    public static Freeze none() {
        return new Freeze(Mode.NONE, null, 0, BatchNorm.FROZEN);
    }

    public static Freeze until(String tensor) {
        return new Freeze(Mode.UNTIL, tensor, 0, BatchNorm.FROZEN);
    }

    public static Freeze last(int k) {
        return new Freeze(Mode.LAST, null, k, BatchNorm.FROZEN);
    }

    public Freeze withBatchNorm(BatchNorm bn) {
        return new Freeze(mode, until, last, bn);
    }

    /** Parses the job file's form: all | none | until:&lt;tensor&gt; | last:&lt;k&gt;. */
    public static Freeze parse(String s) {
        String v = s == null ? "all" : s.trim();
        if (v.equalsIgnoreCase("all")) return all();
        if (v.equalsIgnoreCase("none")) return none();
        if (v.toLowerCase(Locale.ROOT).startsWith("until:")) return until(v.substring(6).trim());
        if (v.toLowerCase(Locale.ROOT).startsWith("last:")) {
            try {
                return last(Integer.parseInt(v.substring(5).trim()));
            } catch (NumberFormatException e) {
                throw new GraftException("freeze '" + s + "': last:<k> needs an integer k");
            }
        }
        throw new GraftException("freeze '" + s + "' is not one of all, none, until:<tensor>, last:<k>");
    }

    public static BatchNorm parseBatchNorm(String s) {
        try {
            return BatchNorm.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new GraftException("bn '" + s + "' is not one of frozen, stats, train");
        }
    }

    /** The trunk's weights that train under this rule (heads not included). */
    public Set<String> trainableTrunk(GraftModel model) {
        SameDiff sd = model.sameDiff();
        Set<String> headVars = new HashSet<>();
        model.heads().forEach(h -> headVars.addAll(h.variables()));
        Set<String> trunk = new LinkedHashSet<>();
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE && !headVars.contains(v.name()) && v.dataType().isFPType()) {
                trunk.add(v.name());
            }
        }
        Set<String> statistics = new HashSet<>();
        Set<String> bnAffine = new HashSet<>();
        for (GraftModel.SourceNode n : model.sourceNodes()) {
            if (isBatchNorm(n)) {
                bnAffine.add(n.inputs().get(1));
                bnAffine.add(n.inputs().get(2));
                statistics.add(n.inputs().get(3));
                statistics.add(n.inputs().get(4));
            }
        }
        trunk.removeAll(statistics);
        if (batchNorm != BatchNorm.TRAIN) trunk.removeAll(bnAffine);
        Set<String> result = switch (mode) {
            case ALL -> Set.of();
            case NONE -> trunk;
            case UNTIL -> {
                if (!sd.hasVariable(until)) throw new GraftException("freeze until: unknown tensor '" + until + "'");
                Set<String> before = ancestors(sd, until);
                Set<String> r = new LinkedHashSet<>(trunk);
                r.removeAll(before);
                yield r;
            }
            case LAST -> {
                List<List<String>> layers = layers(model, trunk);
                Set<String> r = new LinkedHashSet<>();
                for (int i = Math.max(0, layers.size() - last); i < layers.size(); i++) r.addAll(layers.get(i));
                yield r;
            }
        };
        return result;
    }

    /**
     * The BatchNormalization nodes of the trunk, in graph order, as (input tensor, mean variable, variance
     * variable, epsilon) for {@code bn: stats}.
     */
    public static List<String[]> batchNormStatistics(GraftModel model) {
        List<String[]> out = new ArrayList<>();
        for (GraftModel.SourceNode n : model.sourceNodes()) {
            if (!isBatchNorm(n)) continue;
            if (!model.sameDiff().hasVariable(n.inputs().get(3)) || !model.sameDiff().hasVariable(n.inputs().get(0))) continue;
            out.add(new String[]{n.inputs().get(0), n.inputs().get(3), n.inputs().get(4), Integer.toString(channelAxis(n))});
        }
        return out;
    }

    /**
     * ONNX's BatchNormalization and TensorFlow's FusedBatchNorm(V2, V3) take the same inputs in the same order:
     * data, scale, offset, mean, variance.
     */
    static boolean isBatchNorm(GraftModel.SourceNode n) {
        return n.inputs().size() >= 5 && (n.opType().equals("BatchNormalization") || n.opType().startsWith("FusedBatchNorm"));
    }

    /** The channel axis of a batch norm's input: 1 in ONNX, -1 (last) for TensorFlow's default NHWC. */
    private static int channelAxis(GraftModel.SourceNode n) {
        if (!n.opType().startsWith("FusedBatchNorm")) return 1;
        try {
            var def = org.tensorflow.proto.NodeDef.parseFrom(n.definition());
            var f = def.getAttrOrDefault("data_format", null);
            return f != null && f.getS().toStringUtf8().equals("NCHW") ? 1 : -1;
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new GraftException("internal error: the definition of node '" + n.name() + "' cannot be read back");
        }
    }

    /** Every variable the tensor depends on. */
    static Set<String> ancestors(SameDiff sd, String tensor) {
        Map<String, SameDiffOp> producer = new HashMap<>();
        for (SameDiffOp op : sd.getOps().values()) for (String o : op.getOutputsOfOp()) producer.put(o, op);
        Set<String> seen = new HashSet<>();
        Deque<String> work = new ArrayDeque<>(List.of(tensor));
        while (!work.isEmpty()) {
            String v = work.pop();
            if (!seen.add(v)) continue;
            SameDiffOp p = producer.get(v);
            if (p != null && p.getInputsToOp() != null) work.addAll(p.getInputsToOp());
        }
        return seen;
    }

    /**
     * The trunk's layers with trainable weights, in graph order: each source node's weights (a Conv's W and
     * B, a Gemm's B and C); for a graph built by hand, each op's weights.
     */
    static List<List<String>> layers(GraftModel model, Set<String> trunk) {
        List<List<String>> layers = new ArrayList<>();
        Set<String> placed = new HashSet<>();
        if (!model.sourceNodes().isEmpty()) {
            for (GraftModel.SourceNode n : model.sourceNodes()) {
                List<String> w = new ArrayList<>();
                for (String in : n.inputs()) if (trunk.contains(in) && placed.add(in)) w.add(in);
                if (w.isEmpty()) continue;
                // TensorFlow keeps a layer's bias in its own BiasAdd node: it belongs to the layer before it.
                if (n.opType().equals("BiasAdd") && !layers.isEmpty()) layers.get(layers.size() - 1).addAll(w);
                else layers.add(w);
            }
        } else {
            for (SameDiffOp op : model.sameDiff().getOps().values()) {
                List<String> w = new ArrayList<>();
                if (op.getInputsToOp() != null) for (String in : op.getInputsToOp()) if (trunk.contains(in) && placed.add(in)) w.add(in);
                if (!w.isEmpty()) layers.add(w);
            }
        }
        return layers;
    }
}
