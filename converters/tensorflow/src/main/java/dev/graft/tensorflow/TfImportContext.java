package dev.graft.tensorflow;

import dev.graft.GraftException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;

/**
 * What a TensorFlow op importer works with: the SameDiff graph being built, the SameDiff value of each
 * TensorFlow tensor ("node:index") made so far, and TensorFlow itself (the pruned, frozen graph in a live
 * session) to answer shape questions and to compute values that do not depend on the inputs, such as the
 * target shape of a Reshape, so that every importer sees the numbers TensorFlow would.
 */
public final class TfImportContext {
    private final SameDiff sd;
    private final String file;
    private final Graph graph;
    private final Session session;
    private final Map<String, SDVariable> values = new HashMap<>();
    private final Map<String, INDArray> staticValues = new HashMap<>();
    /** Tensors whose value depends on a model input. */
    private final Set<String> dynamic;
    private final Set<String> trainableConstants;
    private final Map<String, INDArray> constants;
    private final Map<String, INDArray> probeFeeds;
    private final Map<String, long[]> probedShapes = new HashMap<>();
    private final Set<String> publicNames = new HashSet<>();
    private int counter;

    TfImportContext(SameDiff sd, String file, Graph graph, Session session, Set<String> dynamic,
                    Map<String, INDArray> constants, Set<String> trainableConstants, Map<String, INDArray> probeFeeds) {
        this.sd = sd;
        this.file = file;
        this.graph = graph;
        this.session = session;
        this.dynamic = dynamic;
        this.constants = constants;
        this.trainableConstants = trainableConstants;
        this.probeFeeds = probeFeeds;
    }

    public SameDiff sd() {
        return sd;
    }

    String file() {
        return file;
    }

    /** The SameDiff name graft gives a TensorFlow tensor: the node's name for output 0, "node:k" otherwise. */
    static String sameDiffName(String ref) {
        return TfGraphResolver.indexOf(ref) == 0 ? TfGraphResolver.nodeOf(ref) : ref;
    }

    void bind(String ref, SDVariable v) {
        values.put(ref, v);
        publicNames.add(v.name());
    }

    /** Whether the tensor already has a SameDiff value (constants get theirs on first use). */
    public boolean hasValue(String ref) {
        return values.containsKey(ref);
    }

    /** The SameDiff value of input {@code i}; constants and frozen weights are created on first use. */
    public SDVariable input(TfNode n, int i) {
        return value(n.input(i));
    }

    public SDVariable value(String ref) {
        SDVariable v = values.get(ref);
        if (v != null) return v;
        INDArray c = constants.get(ref);
        if (c == null) throw new GraftException("internal error: TensorFlow tensor '" + ref + "' has no SameDiff value yet");
        String name = sameDiffName(ref);
        v = trainableConstants.contains(ref) ? sd.var(name, c) : sd.constant(name, c);
        bind(ref, v);
        return v;
    }

    /** Whether the value of input {@code i} is the same for every input of the model. */
    public boolean isStaticInput(TfNode n, int i) {
        return !dynamic.contains(n.input(i));
    }

    /**
     * The value of input {@code i}, which must not depend on the model's inputs (a shape, an axis, paddings);
     * computed by TensorFlow. {@code role} names the input in the error.
     */
    public INDArray constantInput(TfNode n, int i, String role) {
        String ref = n.input(i);
        if (dynamic.contains(ref)) {
            throw n.error("input " + i + " (" + role + ", from '" + ref + "') depends on the model's inputs; graft needs it constant");
        }
        return staticValue(ref);
    }

    public long[] constantLongs(TfNode n, int i, String role) {
        INDArray a = constantInput(n, i, role);
        return a.length() == 0 ? new long[0] : a.castTo(DataType.LONG).reshape(a.length()).toLongVector();
    }

    INDArray staticValue(String ref) {
        INDArray known = staticValues.get(ref);
        if (known != null) return known;
        INDArray c = constants.get(ref);
        if (c == null) c = fetch(ref, Map.of());
        staticValues.put(ref, c);
        return c;
    }

    private INDArray fetch(String ref, Map<String, INDArray> feeds) {
        Session.Runner r = session.runner();
        List<Tensor> opened = new java.util.ArrayList<>();
        try {
            for (Map.Entry<String, INDArray> f : feeds.entrySet()) {
                Tensor t = TfTensors.toTensorflow(f.getValue(), f.getKey());
                opened.add(t);
                r.feed(f.getKey(), t);
            }
            r.fetch(ref);
            try (Result res = r.run()) {
                return TfTensors.toNd4j(res.get(0), ref);
            }
        } catch (org.tensorflow.exceptions.TensorFlowException e) {
            throw new GraftException(file + ": TensorFlow could not compute '" + ref + "': " + e.getMessage(), e);
        } finally {
            opened.forEach(Tensor::close);
        }
    }

    /** The shape TensorFlow infers for a tensor, -1 for sizes that vary; probed on generated inputs when needed. */
    public long[] shape(String ref) {
        Output<?> o = output(ref);
        org.tensorflow.ndarray.Shape s = o.shape();
        if (!s.isUnknown()) return s.asArray();
        return probedShapes.computeIfAbsent(ref, r -> fetch(r, probeFeeds).shape().clone());
    }

    public long[] inputShape(TfNode n, int i) {
        return shape(n.input(i));
    }

    public int inputRank(TfNode n, int i) {
        return inputShape(n, i).length;
    }

    public DataType dataType(String ref) {
        return TfTensors.toNd4j(output(ref).dataType(), ref);
    }

    public DataType inputType(TfNode n, int i) {
        return dataType(n.input(i));
    }

    private Output<?> output(String ref) {
        GraphOperation op = graph.operation(TfGraphResolver.nodeOf(ref));
        if (op == null) throw new GraftException("internal error: '" + ref + "' is not in the pruned graph");
        return op.output(TfGraphResolver.indexOf(ref));
    }

    /**
     * Makes {@code v} the value of output {@code i} of {@code n}, named after the TensorFlow tensor. A variable
     * that already carries another public name (an input, a weight, another node's output) gets an identity.
     */
    public void setOutput(TfNode n, int i, SDVariable v) {
        String ref = n.name() + ":" + i;
        String name = sameDiffName(ref);
        if (!v.name().equals(name)) {
            if (sd.hasVariable(name)) {
                // An auto-generated intermediate took the name first: move it aside.
                if (publicNames.contains(name)) throw n.error("tensor name '" + name + "' is produced twice");
                sd.renameVariable(name, uniqueName(name + "_intermediate"));
            }
            if (v.getVariableType() == VariableType.ARRAY && !publicNames.contains(v.name())) {
                sd.renameVariable(v.name(), name);
                v = sd.getVariable(name);
            } else {
                v = sd.identity(name, v);
            }
        }
        bind(ref, v);
    }

    public String uniqueName(String base) {
        String n = base;
        while (sd.hasVariable(n)) n = base + "_" + (++counter);
        return n;
    }

    public SDVariable constant(INDArray arr) {
        return sd.constant(uniqueName("const"), arr);
    }

    public SDVariable scalar(DataType type, double value) {
        return sd.constant(uniqueName("const"), Nd4j.scalar(type, value));
    }

    /** Normalises a possibly negative axis against a rank. */
    public static int axis(TfNode n, long axis, int rank) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.max(rank, 1)) throw n.error("axis " + axis + " is out of range for rank " + rank);
        return (int) a;
    }
}
