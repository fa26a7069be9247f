package dev.graft.onnx.export;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.graft.onnx.OnnxTensors;
import dev.graft.onnx.runtime.OrtRunner;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Computes nodes whose inputs are all constants (never trainable weights: those stay as they are, so a
 * fine-tuned model keeps its parameters) once, with ONNX Runtime itself, and stores the results as
 * initializers. A result much larger than its inputs (an Expand, a ConstantOfShape) is left as a node, so
 * the file does not grow.
 */
final class ConstantFoldingPass implements ExportPass {

    private static final Set<String> RANDOM = Set.of("RandomUniform", "RandomUniformLike", "RandomNormal",
            "RandomNormalLike", "Multinomial", "Bernoulli", "Dropout");
    private static final long GROWTH_ALLOWANCE = 4096;

    private final int opset;

    ConstantFoldingPass(int opset) {
        this.opset = opset;
    }

    @Override
    public boolean run(ExportGraph g) {
        Set<String> known = new HashSet<>();
        for (String name : g.initializers.keySet()) if (g.isFoldableConstant(name)) known.add(name);
        List<NodeProto> foldable = new ArrayList<>();
        Set<String> outputs = g.outputNames();
        for (NodeProto n : g.nodes) {
            if (!n.getDomain().isEmpty() || RANDOM.contains(n.getOpType())) continue;
            boolean allKnown = n.getInputList().stream().allMatch(i -> i.isEmpty() || known.contains(i));
            if (!allKnown || n.getOutputList().stream().anyMatch(outputs::contains)) continue;
            foldable.add(n);
            known.addAll(n.getOutputList());
        }
        if (foldable.isEmpty()) return false;
        Set<String> foldedOutputs = new HashSet<>();
        foldable.forEach(n -> foldedOutputs.addAll(n.getOutputList()));
        // The values the rest of the graph reads.
        Set<String> wanted = new LinkedHashSet<>();
        for (NodeProto n : g.nodes) {
            if (foldable.contains(n)) continue;
            for (String i : n.getInputList()) if (foldedOutputs.contains(i)) wanted.add(i);
        }
        if (wanted.isEmpty()) {
            g.nodes.removeAll(foldable);
            return true;
        }
        Set<String> used = new HashSet<>();
        foldable.forEach(n -> used.addAll(n.getInputList()));
        GraphProto.Builder graph = GraphProto.newBuilder().setName("fold").addAllNode(foldable);
        for (String name : used) {
            TensorProto t = g.initializers.get(name);
            if (t != null) graph.addInitializer(t);
        }
        for (String w : wanted) graph.addOutput(ValueInfoProto.newBuilder().setName(w));
        ModelProto model = ModelProto.newBuilder().setIrVersion(8).setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build();
        Map<String, INDArray> values;
        try (OrtRunner ort = new OrtRunner(model.toByteArray(), "constant folding")) {
            values = ort.run(Map.of(), new ArrayList<>(wanted));
        }
        long inputElements = 0;
        for (String name : used) {
            TensorProto t = g.initializers.get(name);
            if (t != null) inputElements += t.getDimsList().stream().mapToLong(Long::longValue).reduce(1, (a, b) -> a * b);
        }
        boolean changed = false;
        Set<String> stored = new HashSet<>();
        for (String w : wanted) {
            INDArray v = values.get(w);
            if (v == null || v.length() > inputElements + GROWTH_ALLOWANCE) continue;
            g.initializers.put(w, OnnxTensors.toProto(w, v));
            stored.add(w);
        }
        // A folded node stays when a value it makes is still read and was not stored (too large), and so do
        // the folded nodes feeding it; the others go.
        Map<String, NodeProto> producers = g.producers();
        Set<NodeProto> kept = new HashSet<>();
        ArrayList<String> work = new ArrayList<>();
        for (String w : wanted) if (!stored.contains(w)) work.add(w);
        while (!work.isEmpty()) {
            NodeProto p = producers.get(work.remove(work.size() - 1));
            if (p == null || !foldable.contains(p) || !kept.add(p)) continue;
            for (String in : p.getInputList()) if (foldedOutputs.contains(in) && !stored.contains(in)) work.add(in);
        }
        for (NodeProto n : foldable) {
            if (!kept.contains(n)) {
                g.nodes.remove(n);
                changed = true;
            }
        }
        return changed;
    }
}
