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
 * trainable weights, which passes must keep as they are), inputs and outputs.
 */
public final class ExportGraph {

    final List<NodeProto> nodes = new ArrayList<>();
    final Map<String, TensorProto> initializers = new LinkedHashMap<>();
    final Set<String> weights = new HashSet<>();
    final List<ValueInfoProto> inputs = new ArrayList<>();
    final List<ValueInfoProto> outputs = new ArrayList<>();

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

    /** A constant initializer that is not a trainable weight (so its value may be used and dropped). */
    boolean isFoldableConstant(String name) {
        return initializers.containsKey(name) && !weights.contains(name) && !inputNames().contains(name);
    }
}
