package dev.graft.onnx.export;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.Map;

/**
 * Merges a Transpose of a Transpose into one, and removes it when the two cancel (the importer permutes
 * convolution weights to SameDiff's layout, the exporter permutes them back: the pair vanishes). A
 * Transpose with the identity permutation is removed too.
 */
final class TransposePairPass implements ExportPass {

    @Override
    public boolean run(ExportGraph g) {
        boolean changed = false;
        Map<String, NodeProto> producers = g.producers();
        for (int k = 0; k < g.nodes.size(); k++) {
            NodeProto n = g.nodes.get(k);
            if (!isTranspose(n)) continue;
            long[] outer = perm(n);
            NodeProto first = producers.get(n.getInput(0));
            String source = n.getInput(0);
            long[] total = outer;
            if (first != null && isTranspose(first) && perm(first) != null && outer != null) {
                long[] inner = perm(first);
                total = new long[outer.length];
                for (int i = 0; i < outer.length; i++) total[i] = inner[(int) outer[i]];
                source = first.getInput(0);
            }
            if (total == null) continue;
            boolean identity = true;
            for (int i = 0; i < total.length; i++) identity &= total[i] == i;
            String out = n.getOutput(0);
            if (identity && !g.outputNames().contains(out)) {
                g.nodes.remove(k--);
                g.renameUses(out, source);
                producers = g.producers();
                changed = true;
            } else if (!identity && !source.equals(n.getInput(0))) {
                AttributeProto.Builder a = AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS);
                for (long v : total) a.addInts(v);
                g.nodes.set(k, n.toBuilder().setInput(0, source).clearAttribute().addAttribute(a).build());
                producers = g.producers();
                changed = true;
            }
        }
        return changed;
    }

    private static boolean isTranspose(NodeProto n) {
        return n.getOpType().equals("Transpose") && n.getDomain().isEmpty();
    }

    /** The permutation, or null when the attribute is absent (the default reverses the axes: rank unknown here). */
    private static long[] perm(NodeProto n) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals("perm")) return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
        }
        return null;
    }
}
