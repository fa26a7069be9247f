package dev.graft.onnx.export;

import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.Map;
import java.util.Set;

/**
 * Drops Identity nodes: readers of the copy read the original. An Identity that names a graph output is
 * kept unless its input can simply be renamed (made by a node, read by nobody else, not itself public).
 */
final class IdentityRemovalPass implements ExportPass {

    @Override
    public boolean run(ExportGraph g) {
        boolean changed = false;
        for (int k = 0; k < g.nodes.size(); k++) {
            NodeProto n = g.nodes.get(k);
            if (!n.getOpType().equals("Identity") || !n.getDomain().isEmpty() || n.getInputCount() != 1) continue;
            String in = n.getInput(0);
            String out = n.getOutput(0);
            Set<String> outputs = g.outputNames();
            if (!outputs.contains(out)) {
                g.nodes.remove(k--);
                g.renameUses(out, in);
                changed = true;
                continue;
            }
            Map<String, NodeProto> producers = g.producers();
            NodeProto producer = producers.get(in);
            if (producer == null || outputs.contains(in) || g.useCounts().getOrDefault(in, 0) != 1) continue;
            int at = g.nodes.indexOf(producer);
            NodeProto.Builder b = producer.toBuilder();
            for (int i = 0; i < b.getOutputCount(); i++) {
                if (b.getOutput(i).equals(in)) b.setOutput(i, out);
            }
            g.nodes.set(at, b.build());
            g.nodes.remove(n);
            k = -1; // indices moved: start over (the graph only gets smaller)
            changed = true;
        }
        return changed;
    }
}
