package dev.graft.onnx.export;

import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ONNX graph being written, in a form the passes can edit: nodes, initializers (with which of them are
 * trainable weights, which passes must keep as they are), inputs and outputs, and the ranks of the values
 * that are known (from the exporter's probe run; passes add the ranks of the values they make).
 */
public final class ExportGraph {

    final List<NodeProto> nodes = new ArrayList<>();
    final Map<String, TensorProto> initializers = new LinkedHashMap<>();
    final Set<String> weights = new HashSet<>();
    final List<ValueInfoProto> inputs = new ArrayList<>();
    final List<ValueInfoProto> outputs = new ArrayList<>();
    final Map<String, Integer> ranks = new HashMap<>();

    /** A copy to try a rewrite on (nodes and tensors are immutable, so the lists and maps are what is copied). */
    ExportGraph copy() {
        ExportGraph c = new ExportGraph();
        c.replaceWith(this);
        return c;
    }

    /** Takes over the contents of {@code other} (a copy that a rewrite was tried on and kept). */
    void replaceWith(ExportGraph other) {
        if (other == this) return;
        List<NodeProto> n = new ArrayList<>(other.nodes);
        Map<String, TensorProto> i = new LinkedHashMap<>(other.initializers);
        Set<String> w = new HashSet<>(other.weights);
        List<ValueInfoProto> in = new ArrayList<>(other.inputs);
        List<ValueInfoProto> out = new ArrayList<>(other.outputs);
        Map<String, Integer> r = new HashMap<>(other.ranks);
        nodes.clear();
        nodes.addAll(n);
        initializers.clear();
        initializers.putAll(i);
        weights.clear();
        weights.addAll(w);
        inputs.clear();
        inputs.addAll(in);
        outputs.clear();
        outputs.addAll(out);
        ranks.clear();
        ranks.putAll(r);
    }

    public List<NodeProto> nodes() {
        return nodes;
    }

    public Map<String, TensorProto> initializers() {
        return initializers;
    }

    Set<String> outputNames() {
        Set<String> names = new HashSet<>();
        outputs.forEach(o -> names.add(o.getName()));
        return names;
    }

    Set<String> inputNames() {
        Set<String> names = new HashSet<>();
        inputs.forEach(o -> names.add(o.getName()));
        return names;
    }

    /** The node producing each value. */
    Map<String, NodeProto> producers() {
        Map<String, NodeProto> p = new HashMap<>();
        for (NodeProto n : nodes) {
            for (String o : n.getOutputList()) p.put(o, n);
        }
        return p;
    }

    /** How many node inputs (plus graph outputs) read each value. */
    Map<String, Integer> useCounts() {
        Map<String, Integer> uses = new HashMap<>();
        for (NodeProto n : nodes) {
            for (String i : n.getInputList()) if (!i.isEmpty()) uses.merge(i, 1, Integer::sum);
        }
        for (ValueInfoProto o : outputs) uses.merge(o.getName(), 1, Integer::sum);
        return uses;
    }

    /** Replaces every read of {@code from} by {@code to}. */
    void renameUses(String from, String to) {
        for (int k = 0; k < nodes.size(); k++) {
            NodeProto n = nodes.get(k);
            if (!n.getInputList().contains(from)) continue;
            NodeProto.Builder b = n.toBuilder();
            for (int i = 0; i < b.getInputCount(); i++) {
                if (b.getInput(i).equals(from)) b.setInput(i, to);
            }
            nodes.set(k, b.build());
        }
    }

    /** The value's rank when known: an initializer's, a graph input's with a shape, or one recorded in {@link #ranks}. */
    Integer rank(String value) {
        TensorProto t = initializers.get(value);
        if (t != null) return t.getDimsCount();
        Integer r = ranks.get(value);
        if (r != null) return r;
        for (ValueInfoProto in : inputs) {
            if (in.getName().equals(value) && in.getType().getTensorType().hasShape()) {
                return in.getType().getTensorType().getShape().getDimCount();
            }
        }
        return null;
    }

    /** The nodes reading each value, each node once per value even when it reads it several times. */
    Map<String, List<NodeProto>> consumers() {
        Map<String, List<NodeProto>> c = new HashMap<>();
        for (NodeProto n : nodes) {
            for (String i : new java.util.LinkedHashSet<>(n.getInputList())) {
                if (!i.isEmpty()) c.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
            }
        }
        return c;
    }

    /** A constant initializer that is not a trainable weight (so its value may be used and dropped). */
    boolean isFoldableConstant(String name) {
        return initializers.containsKey(name) && !weights.contains(name) && !inputNames().contains(name);
    }
}
