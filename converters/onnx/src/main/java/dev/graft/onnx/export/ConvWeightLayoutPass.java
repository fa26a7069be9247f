package dev.graft.onnx.export;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.graft.onnx.OnnxTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Stores a convolution's weights in ONNX's layout when the exporter had to rearrange a trainable variable
 * for it: a Transpose (and for depthwise weights a Reshape) between the variable and the weight input of a
 * Conv or ConvTranspose is applied to the stored tensor once, which keeps the variable's name, and the node
 * reads it directly. Channels-last SameDiff graphs (TensorFlow's) hold convolution weights as [kH, kW, I, O];
 * without this the exported model would transpose them on every run. The initializer's doc_string says
 * which layout it is in and how it was made from the variable.
 *
 * <p>Narrow on purpose: only chains of Transpose and Reshape (with a constant shape) that start at a weight
 * read by nothing else and end at a weight input; {@link ConstantFoldingPass} never touches weights, and a
 * weight read elsewhere too must keep its layout. Weights imported from ONNX need none of this: the
 * importer's permute and the exporter's Transpose cancel.
 */
final class ConvWeightLayoutPass implements ExportPass {

    @Override
    public boolean run(ExportGraph g) {
        boolean changed = false;
        for (int k = 0; k < g.nodes.size(); k++) {
            NodeProto conv = g.nodes.get(k);
            boolean transposed = conv.getOpType().equals("ConvTranspose");
            if (!conv.getDomain().isEmpty() || !(conv.getOpType().equals("Conv") || transposed) || conv.getInputCount() < 2) {
                continue;
            }
            Map<String, NodeProto> producers = g.producers();
            Map<String, Integer> uses = g.useCounts();
            List<NodeProto> chain = new ArrayList<>(); // from the conv back to the weight
            String value = conv.getInput(1);
            while (producers.containsKey(value) && uses.getOrDefault(value, 0) == 1 && !g.outputNames().contains(value)) {
                NodeProto p = producers.get(value);
                if (!p.getDomain().isEmpty() || !(isTranspose(p) || isConstantReshape(g, p))) break;
                chain.add(p);
                value = p.getInput(0);
            }
            String weight = value;
            if (chain.isEmpty() || !g.weights.contains(weight) || !g.initializers.containsKey(weight)
                    || uses.getOrDefault(weight, 0) != 1 || g.inputNames().contains(weight) || g.outputNames().contains(weight)) {
                continue;
            }
            TensorProto stored = g.initializers.get(weight);
            INDArray a = OnnxTensors.toArray(stored, null, weight);
            long[] original = a.shape();
            List<String> steps = new ArrayList<>();
            for (int i = chain.size() - 1; i >= 0; i--) {
                NodeProto p = chain.get(i);
                if (isTranspose(p)) {
                    long[] perm = perm(p);
                    a = a.permute(Arrays.stream(perm).mapToInt(v -> (int) v).toArray()).dup('c');
                    steps.add("Transpose perm " + Arrays.toString(perm));
                } else {
                    long[] shape = reshapeTarget(a.shape(), longs(g.initializers.get(p.getInput(1))));
                    a = a.dup('c').reshape('c', shape);
                    steps.add("Reshape to " + Arrays.toString(shape));
                }
            }
            String layout = transposed ? "[I, O / group, k...]" : "[O, I / group, k...]";
            TensorProto relaid = OnnxTensors.toProto(weight, a).toBuilder()
                    .setDocString("graft: stored in ONNX " + conv.getOpType() + " weight layout " + layout + " "
                            + Arrays.toString(a.shape()) + "; the SameDiff variable '" + weight + "' holds it as "
                            + Arrays.toString(original) + " (this is it after " + String.join(", then ", steps) + ")")
                    .build();
            g.initializers.put(weight, relaid);
            g.nodes.removeAll(chain);
            int at = g.nodes.indexOf(conv);
            g.nodes.set(at, conv.toBuilder().setInput(1, weight).build());
            k = at;
            changed = true;
        }
        return changed;
    }

    private static boolean isTranspose(NodeProto n) {
        return n.getOpType().equals("Transpose") && perm(n) != null;
    }

    /** A Reshape whose shape is a constant initializer and whose zeros copy dimensions (no allowzero). */
    private static boolean isConstantReshape(ExportGraph g, NodeProto n) {
        if (!n.getOpType().equals("Reshape") || n.getInputCount() != 2 || !g.isFoldableConstant(n.getInput(1))) return false;
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals("allowzero") && a.getI() != 0) return false;
        }
        return true;
    }

    static long[] perm(NodeProto n) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals("perm")) return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
        }
        return null;
    }

    static long[] longs(TensorProto t) {
        return OnnxTensors.toArray(t, null, t.getName()).castTo(DataType.LONG).data().asLong();
    }

    /** ONNX Reshape's target: 0 copies the input's dimension, -1 takes what is left. */
    private static long[] reshapeTarget(long[] in, long[] target) {
        long[] shape = target.clone();
        long known = 1;
        int infer = -1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 0) shape[i] = in[i];
            if (shape[i] == -1) infer = i;
            else known *= shape[i];
        }
        if (infer >= 0) shape[infer] = Arrays.stream(in).reduce(1, (x, y) -> x * y) / known;
        return shape;
    }
}
