package dev.graft.surgery;

import dev.graft.GraftException;
import dev.graft.GraftModel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;

/**
 * Graph surgery on the SameDiff graph of a model: keep the graph up to some tensors and remove what only
 * served the rest (as onnx-graphsurgeon does: set the outputs, then clean up by reachability), and find the
 * input of the final classifier for {@code cut auto}.
 */
public final class Surgery {

    /** Ops that pass a classifier's output through (walked over, from the output back, to find the classifier). */
    private static final Set<String> PASS_THROUGH = Set.of("softmax", "log_softmax", "sigmoid", "identity", "reshape",
            "squeeze", "expand_dims", "relu", "cast", "add", "biasadd", "dropout", "reduce_mean", "permute", "stop_gradient");
    /** Ops that read data through to a classifier's input without being one (a flatten, a dropout). */
    private static final Set<String> DATA_THROUGH = Set.of("identity", "reshape", "dropout", "stop_gradient");

    private Surgery() {
    }

    /** The tensor {@code cut auto} chooses and why, e.g. "/Flatten_output_0 (input of the final classifier: matmul 'x')". */
    public record AutoCut(String tensor, String reason) {
    }

    /**
     * The input of the final classifier: from the first output, walk back over ops that keep a classifier's
     * meaning (softmax, bias add, reshape, global average pooling, ...) to the last matrix product (Gemm,
     * MatMul, a dense layer) or 1x1 convolution (SqueezeNet), and take its data input.
     */
    public static AutoCut autoCut(GraftModel model) {
        SameDiff sd = model.sameDiff();
        Map<String, SameDiffOp> producer = producers(sd);
        for (String out : model.outputNames()) {
            String v = out;
            for (int steps = 0; steps < 64; steps++) {
                SameDiffOp op = producer.get(v);
                if (op == null) break;
                String type = op.getOp().opName();
                if (type.equals("matmul") || type.equals("xw_plus_b") || type.equals("conv2d") && isPointwise(sd, op)) {
                    String data = dataInput(sd, op);
                    return new AutoCut(data, "input of the final classifier, " + type + " '" + op.getName() + "'"
                            + (model.originOf(op.getName()) == null ? "" : " made from " + model.originOf(op.getName())));
                }
                if (!PASS_THROUGH.contains(type)) break;
                v = dataInput(sd, op);
            }
        }
        throw new GraftException("cut auto: found no final classifier (a Gemm, MatMul or 1x1 Conv reached from the "
                + "outputs " + model.outputNames() + " through softmax, bias, reshape or pooling); name the tensor to cut at "
                + "('graft inspect' lists the model's cut points)");
    }

    /** The op's input that carries data (not a weight or constant), walked back over flattens and dropouts. */
    private static String dataInput(SameDiff sd, SameDiffOp op) {
        for (String in : op.getInputsToOp()) {
            VariableType t = sd.getVariable(in).getVariableType();
            if (t == VariableType.ARRAY || t == VariableType.PLACEHOLDER) {
                return in;
            }
        }
        return op.getInputsToOp().get(0);
    }

    private static boolean isPointwise(SameDiff sd, SameDiffOp op) {
        if (op.getInputsToOp().size() < 2) return false;
        long[] w = sd.getVariable(op.getInputsToOp().get(1)).getShape();
        if (w == null) {
            SDVariable weights = sd.getVariable(op.getInputsToOp().get(1));
            w = weights.getArr() == null ? null : weights.getArr().shape();
        }
        // SameDiff's default conv2d weight layout is [kH, kW, in, out]; a permuted weight has no static shape.
        return w == null || w.length == 4 && w[0] == 1 && w[1] == 1;
    }

    /**
     * Keeps the graph up to {@code tensors} (which become the model's outputs): every op no kept output needs
     * is removed, with the variables (weights included) only those ops used. Inputs stay.
     */
    public static GraftModel cut(GraftModel model, List<String> tensors) {
        SameDiff sd = model.sameDiff();
        if (tensors.isEmpty()) throw new GraftException("cut: name at least one tensor (or 'auto')");
        for (String t : tensors) {
            if (!sd.hasVariable(t)) {
                throw new GraftException("cut: unknown tensor '" + t + "'; 'graft inspect' lists the model's tensors and cut points");
            }
        }
        keepOnly(sd, tensors, model.inputNames());
        return model.withOutputs(tensors);
    }

    /**
     * Removes every op and variable that the {@code keep} tensors do not depend on (placeholders named in
     * {@code inputs} stay). SameDiff 1.0.0-M2.1 has no API for removing ops, so this edits its op and
     * variable maps and the consumers' lists, then drops cached sessions and gradient functions.
     */
    public static void keepOnly(SameDiff sd, List<String> keep, List<String> inputs) {
        Map<String, SameDiffOp> producer = producers(sd);
        Set<String> liveOps = new HashSet<>();
        Set<String> liveVars = new HashSet<>(inputs);
        Set<String> visited = new HashSet<>();
        Deque<String> work = new ArrayDeque<>(keep);
        while (!work.isEmpty()) {
            String v = work.pop();
            if (!visited.add(v)) continue;
            liveVars.add(v);
            SameDiffOp op = producer.get(v);
            if (op != null && liveOps.add(op.getName())) {
                liveVars.addAll(op.getOutputsOfOp());
                if (op.getInputsToOp() != null) work.addAll(op.getInputsToOp());
            }
        }
        List<String> deadOps = new ArrayList<>();
        for (String op : sd.getOps().keySet()) if (!liveOps.contains(op)) deadOps.add(op);
        deadOps.forEach(sd.getOps()::remove);
        List<String> deadVars = new ArrayList<>();
        for (String v : sd.getVariables().keySet()) if (!liveVars.contains(v)) deadVars.add(v);
        deadVars.forEach(sd.getVariables()::remove);
        for (Variable v : sd.getVariables().values()) {
            if (v.getInputsForOp() != null) v.getInputsForOp().removeIf(op -> !liveOps.contains(op));
            if (v.getControlDepsForOp() != null) v.getControlDepsForOp().removeIf(op -> !liveOps.contains(op));
        }
        SameDiffState.reset(sd);
    }

    static Map<String, SameDiffOp> producers(SameDiff sd) {
        Map<String, SameDiffOp> producer = new HashMap<>();
        for (SameDiffOp op : sd.getOps().values()) {
            for (String o : op.getOutputsOfOp()) producer.put(o, op);
        }
        return producer;
    }
}
