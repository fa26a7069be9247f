package dev.graft.onnx.export;

import ai.onnx.proto.OnnxMl.NodeProto;
import dev.graft.GraftException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Orders nodes so that each comes after the producers of its inputs (ONNX requires it), keeping the
 * current order where it already is valid. A cycle is an exporter bug and is reported as such.
 */
final class TopologicalSortPass implements ExportPass {

    @Override
    public boolean run(ExportGraph g) {
        Set<String> available = new HashSet<>(g.initializers.keySet());
        available.addAll(g.inputNames());
        available.add("");
        Map<String, NodeProto> producers = g.producers();
        List<NodeProto> pending = new ArrayList<>(g.nodes);
        List<NodeProto> sorted = new ArrayList<>();
        while (!pending.isEmpty()) {
            boolean progress = false;
            for (int k = 0; k < pending.size(); k++) {
                NodeProto n = pending.get(k);
                boolean ready = true;
                for (String in : n.getInputList()) {
                    if (!available.contains(in) && producers.containsKey(in)) {
                        ready = false;
                        break;
                    }
                }
                if (ready) {
                    sorted.add(n);
                    available.addAll(n.getOutputList());
                    pending.remove(k--);
                    progress = true;
                }
            }
            if (!progress) {
                throw new GraftException("exporter bug: the exported graph has a cycle through node '"
                        + pending.get(0).getName() + "' (" + pending.get(0).getOpType() + ")");
            }
        }
        boolean changed = !sorted.equals(g.nodes);
        g.nodes.clear();
        g.nodes.addAll(sorted);
        return changed;
    }
}
