package dev.graft.onnx.export;

import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Keeps only the nodes and initializers the graph outputs need. */
final class DeadNodePass implements ExportPass {

    @Override
    public boolean run(ExportGraph g) {
        Map<String, NodeProto> producers = g.producers();
        Set<NodeProto> live = new HashSet<>();
        Set<String> needed = new HashSet<>();
        Deque<String> work = new ArrayDeque<>(g.outputNames());
        while (!work.isEmpty()) {
            String v = work.pop();
            if (!needed.add(v)) continue;
            NodeProto p = producers.get(v);
            if (p != null && live.add(p)) {
                for (String in : p.getInputList()) if (!in.isEmpty()) work.push(in);
            }
        }
        int nodes = g.nodes.size();
        int inits = g.initializers.size();
        g.nodes.removeIf(n -> !live.contains(n));
        g.initializers.keySet().removeIf(name -> !needed.contains(name));
        return g.nodes.size() != nodes || g.initializers.size() != inits;
    }
}
