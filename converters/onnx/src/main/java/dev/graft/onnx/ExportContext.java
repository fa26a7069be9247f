package dev.graft.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.graft.GraftException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.BaseScalarOp;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What an {@link OpExporter} writes through: the target opset, the SameDiff variables an op reads and writes
 * (whose names become the ONNX value names), their element types and ranks, the values of constants, and a
 * builder for ONNX nodes that hands out unique names for intermediate values.
 */
public final class ExportContext {

    private final SameDiff sd;
    private final int opset;
    private final Function<String, INDArray> probe;
    private final Function<String, String> origins;
    private final List<NodeProto> nodes = new ArrayList<>();
    private final Map<String, TensorProto> constants = new LinkedHashMap<>();
    private final Map<String, INDArray> constantValues = new LinkedHashMap<>();
    private final Set<String> taken = new HashSet<>();
    private int counter;

    /**
     * @param probe   the value of a SameDiff variable on a probe input (ranks and element types of
     *                intermediate values come from it; dynamic sizes in it are arbitrary)
     * @param origins the source node a SameDiff op was made from, or null, for error messages
     */
    public ExportContext(SameDiff sd, int opset, Function<String, INDArray> probe, Function<String, String> origins) {
        this.sd = sd;
        this.opset = opset;
        this.probe = probe;
        this.origins = origins;
        for (SDVariable v : sd.variables()) {
            taken.add(v.name());
        }
    }

    public SameDiff sd() {
        return sd;
    }

    /** The ONNX opset (default domain) being written. */
    public int opset() {
        return opset;
    }

    // ---------------------------------------------------------------- the op being exported

    public int inputCount(SameDiffOp op) {
        return op.getInputsToOp() == null ? 0 : op.getInputsToOp().size();
    }

    /** The name of the op's i-th input variable, which is also its ONNX value name. */
    public String input(SameDiffOp op, int i) {
        List<String> in = op.getInputsToOp();
        if (in == null || i >= in.size()) {
            throw error(op, "has " + inputCount(op) + " inputs, the exporter needs input " + i);
        }
        return in.get(i);
    }

    public List<String> inputs(SameDiffOp op) {
        return op.getInputsToOp() == null ? List.of() : op.getInputsToOp();
    }

    public String output(SameDiffOp op, int i) {
        return op.getOutputsOfOp().get(i);
    }

    public List<String> outputs(SameDiffOp op) {
        return op.getOutputsOfOp();
    }

    // ---------------------------------------------------------------- values

    public DataType dataType(String value) {
        if (constantValues.containsKey(value)) return constantValues.get(value).dataType();
        return sd.getVariable(value).dataType();
    }

    /** The value's shape on the probe input: its rank is exact, sizes that depend on dynamic input dims are not. */
    public long[] probeShape(String value) {
        if (isConstant(value)) return constantValue(value).shape();
        SDVariable variable = sd.hasVariable(value) ? sd.getVariable(value) : null;
        if (variable != null && variable.getVariableType() == VariableType.VARIABLE) return variable.getArr().shape();
        INDArray v = probe.apply(value);
        if (v == null) {
            throw new GraftException("no probe value for '" + value + "' (needed for its rank)");
        }
        return v.shape();
    }

    public int rank(String value) {
        return probeShape(value).length;
    }

    /** True when the value is known now: a SameDiff constant or a constant this export made (not a weight). */
    public boolean isConstant(String value) {
        if (constantValues.containsKey(value)) return true;
        SDVariable v = sd.hasVariable(value) ? sd.getVariable(value) : null;
        return v != null && v.getVariableType() == VariableType.CONSTANT;
    }

    public INDArray constantValue(String value) {
        INDArray made = constantValues.get(value);
        if (made != null) return made;
        if (!isConstant(value)) {
            throw new GraftException("'" + value + "' is not a constant");
        }
        return sd.getVariable(value).getArr();
    }

    /** Integer contents of a constant (axes, shapes, sizes), or null when the value is not a constant. */
    public long[] constantLongs(String value) {
        return isConstant(value) ? constantValue(value).castTo(DataType.LONG).data().asLong() : null;
    }

    /** A new constant (an initializer) holding the array; returns its name. */
    public String constant(INDArray array) {
        String name = fresh("graft_const");
        constants.put(name, OnnxTensors.toProto(name, array));
        constantValues.put(name, array);
        return name;
    }

    /** A 1-D int64 constant, the form ONNX takes for axes, shapes, pads and indices. */
    public String longs(long... values) {
        return constant(Nd4j.createFromArray(values));
    }

    /** A scalar constant of the given element type. */
    public String scalar(DataType type, double value) {
        return constant(Nd4j.scalar(value).castTo(type));
    }

    /** A name no variable, constant or earlier intermediate has. */
    public String fresh(String base) {
        String name = base;
        while (taken.contains(name)) {
            name = base + "_" + (++counter);
        }
        taken.add(name);
        return name;
    }

    // ---------------------------------------------------------------- nodes

    /** Starts an ONNX node of the default domain reading the given values ("" for an omitted input). */
    public NodeBuilder node(String opType, String... inputs) {
        return new NodeBuilder(opType, List.of(inputs));
    }

    public NodeBuilder node(String opType, List<String> inputs) {
        return new NodeBuilder(opType, inputs);
    }

    /** Writes the op as one ONNX node of {@code opType} with the same inputs and outputs (Relu, Add, ...). */
    public void same(SameDiffOp op, String opType) {
        node(opType, inputs(op)).to(outputs(op).toArray(String[]::new));
    }

    /** The op's integer arguments (axes, flags: what ND4J calls iArgs), never null. */
    public static long[] intArgs(SameDiffOp op) {
        long[] a = op.getOp() instanceof CustomOp c ? c.iArgs() : null;
        return a == null ? new long[0] : a;
    }

    /** The op's floating point arguments (tArgs), never null. */
    public static double[] floatArgs(SameDiffOp op) {
        double[] a = op.getOp() instanceof CustomOp c ? c.tArgs() : null;
        return a == null ? new double[0] : a;
    }

    /** The op's boolean arguments (bArgs), never null. */
    public static boolean[] boolArgs(SameDiffOp op) {
        boolean[] a = op.getOp() instanceof CustomOp c ? c.bArgs() : null;
        return a == null ? new boolean[0] : a;
    }

    /** The scalar operand of a legacy scalar op (x + s, x * s, max(x, s), x < s, ...). */
    public static double scalarArg(SameDiffOp op) {
        if (op.getOp() instanceof BaseScalarOp s && s.scalar() != null) return s.scalar().getDouble(0);
        if (op.getOp() instanceof org.nd4j.linalg.api.ops.BaseScalarBoolOp s && s.scalar() != null) return s.scalar().getDouble(0);
        throw new GraftException("SameDiff op '" + op.getName() + "' (" + op.getOp().opName() + ") has no scalar operand");
    }

    /** The extra arguments of a legacy op (e.g. LeakyReLU's alpha), never null. */
    public static Object[] extraArgs(SameDiffOp op) {
        Object[] a = op.getOp().getExtraArgs();
        return a == null ? new Object[0] : a;
    }

    /** Appends a finished node (e.g. a source node written back as it was). */
    public void add(NodeProto node) {
        nodes.add(node);
        taken.addAll(node.getOutputList());
    }

    public List<NodeProto> nodes() {
        return nodes;
    }

    public Map<String, TensorProto> constants() {
        return constants;
    }

    /** An error naming the SameDiff op, its type and the source node it was made from. */
    public GraftException error(SameDiffOp op, String message) {
        return new GraftException(describe(op) + ": " + message);
    }

    public String describe(SameDiffOp op) {
        String origin = origins.apply(op.getName());
        return "SameDiff op '" + op.getName() + "' (" + op.getOp().opName() + ")"
                + (origin == null ? "" : ", made from " + origin);
    }

    /** Builds one node: attributes are typed, outputs are either given or fresh names. */
    public final class NodeBuilder {
        private final NodeProto.Builder b = NodeProto.newBuilder();

        private NodeBuilder(String opType, List<String> inputs) {
            b.setOpType(opType).addAllInput(inputs);
        }

        public NodeBuilder attr(String name, long value) {
            b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value));
            return this;
        }

        public NodeBuilder attr(String name, float value) {
            b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value));
            return this;
        }

        public NodeBuilder attr(String name, long[] values) {
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
            for (long v : values) a.addInts(v);
            b.addAttribute(a);
            return this;
        }

        public NodeBuilder attr(String name, float[] values) {
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOATS);
            for (float v : values) a.addFloats(v);
            b.addAttribute(a);
            return this;
        }

        public NodeBuilder attr(String name, String value) {
            b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                    .setS(com.google.protobuf.ByteString.copyFromUtf8(value)));
            return this;
        }

        public NodeBuilder attr(String name, TensorProto value) {
            b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR).setT(value));
            return this;
        }

        /** Writes the node with the given output names; returns the first. */
        public String to(String... outputs) {
            b.addAllOutput(Arrays.asList(outputs));
            b.setName(fresh(b.getOpType() + "_" + outputs[0]));
            add(b.build());
            return outputs[0];
        }

        /** Writes the node with one fresh output name; returns it. */
        public String build() {
            return to(fresh(b.getOpType().toLowerCase() + "_out"));
        }

        /** Writes the node with {@code n} fresh output names. */
        public List<String> build(int n) {
            String[] outs = new String[n];
            for (int i = 0; i < n; i++) outs[i] = fresh(b.getOpType().toLowerCase() + "_out" + i);
            to(outs);
            return List.of(outs);
        }
    }
}
