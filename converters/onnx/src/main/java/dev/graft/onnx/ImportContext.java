package dev.graft.onnx;

import dev.graft.GraftException;
import java.util.Arrays;
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

/**
 * What a converter sees while importing one node: the SameDiff graph being built, the SameDiff variable
 * behind each ONNX value, which values are known at import time (constants, and anything computed only
 * from constants), and the shapes of values.
 *
 * <p>Shapes of values computed at run time come from a probe: the ONNX nodes a value depends on are
 * evaluated once on generated inputs, twice when the model has dynamic input dimensions (with different
 * sizes for them); a dimension that differs between the two runs is dynamic (-1).
 * Converters ask for shapes only where SameDiff needs a static argument, and never bake a dynamic dimension
 * into the graph.
 */
public final class ImportContext {

    private final SameDiff sd;
    private final int opset;
    private final Map<String, SDVariable> values = new HashMap<>();
    /** ONNX values whose content is fixed at import time, with the content once it has been computed. */
    private final Set<String> staticNames = new HashSet<>();
    private final Map<String, INDArray> staticArrays = new HashMap<>();
    private final Map<String, long[]> shapes = new HashMap<>();
    private final ShapeProbe probe;
    private final Set<String> boundSdNames = new HashSet<>();
    private int uniqueCounter;

    /** Answers the shape of a value computed at run time (see {@link OnnxImporter}'s probe). */
    interface ShapeProbe {
        long[] shapeOf(String onnxName);
    }

    ImportContext(SameDiff sd, int opset, ShapeProbe probe) {
        this.sd = sd;
        this.opset = opset;
        this.probe = probe;
    }

    public SameDiff sd() {
        return sd;
    }

    public int opset() {
        return opset;
    }

    // ---------------------------------------------------------------- values

    public boolean has(String onnxName) {
        return values.containsKey(onnxName);
    }

    /** The SameDiff variable for an ONNX value. */
    public SDVariable value(String onnxName) {
        SDVariable v = values.get(onnxName);
        if (v == null) {
            throw new GraftException("ONNX value '" + onnxName + "' is used before it is produced");
        }
        return v;
    }

    /** Required input {@code i} of the node. */
    public SDVariable input(OnnxNode node, int i) {
        if (!node.hasInput(i)) {
            throw node.error("required input " + i + " is missing");
        }
        return value(node.input(i));
    }

    /** Optional input {@code i}, or null when the node omits it. */
    public SDVariable optionalInput(OnnxNode node, int i) {
        return node.hasInput(i) ? value(node.input(i)) : null;
    }

    /** All given inputs, in order (for variadic ops). */
    public List<SDVariable> inputs(OnnxNode node) {
        return node.inputs().stream().filter(s -> !s.isEmpty()).map(this::value).toList();
    }

    /** Binds a value produced by the converter to output {@code i} of the node, under the ONNX name. */
    public void setOutput(OnnxNode node, int i, SDVariable v) {
        if (!node.hasOutput(i)) {
            return; // optional output the model does not use
        }
        bind(node.output(i), v);
    }

    void bind(String onnxName, SDVariable v) {
        SDVariable named = nameAs(onnxName, v);
        values.put(onnxName, named);
    }

    /**
     * Gives the variable the ONNX name so that every intermediate tensor is addressable by it. A variable
     * that already carries another public name (input, weight, other ONNX value) gets an identity instead.
     */
    private SDVariable nameAs(String onnxName, SDVariable v) {
        if (v.name().equals(onnxName)) {
            boundSdNames.add(onnxName);
            return v;
        }
        if (sd.hasVariable(onnxName)) {
            // An auto-generated intermediate took the name first: move it aside.
            if (boundSdNames.contains(onnxName)) {
                throw new GraftException("ONNX value name '" + onnxName + "' is produced twice");
            }
            sd.renameVariable(onnxName, uniqueName(onnxName + "_intermediate"));
        }
        boolean renamable = v.getVariableType() == VariableType.ARRAY && !boundSdNames.contains(v.name());
        SDVariable result;
        if (renamable) {
            sd.renameVariable(v.name(), onnxName);
            result = sd.getVariable(onnxName);
        } else {
            result = sd.identity(onnxName, v);
        }
        boundSdNames.add(onnxName);
        return result;
    }

    /** Binds an import-time constant to an ONNX value (used for folded nodes). */
    public void bindConstant(String onnxName, INDArray arr) {
        if (sd.hasVariable(onnxName)) {
            sd.renameVariable(onnxName, uniqueName(onnxName + "_intermediate"));
        }
        SDVariable c = sd.constant(onnxName, arr);
        boundSdNames.add(onnxName);
        values.put(onnxName, c);
        staticNames.add(onnxName);
        staticArrays.put(onnxName, arr);
    }

    /** Binds output {@code i} of the node to a value known at import time. */
    public void setConstantOutput(OnnxNode node, int i, INDArray arr) {
        if (node.hasOutput(i)) {
            bindConstant(node.output(i), arr);
        }
    }

    void bindExisting(String onnxName, SDVariable v) {
        values.put(onnxName, v);
        boundSdNames.add(v.name());
    }

    public String uniqueName(String base) {
        String name = base;
        while (sd.hasVariable(name)) {
            name = base + "_" + (++uniqueCounter);
        }
        return name;
    }

    // ---------------------------------------------------------------- import-time constants

    void markStatic(String onnxName) {
        staticNames.add(onnxName);
    }

    /** True when the value's content is known at import time (it depends on no input and no weight). */
    public boolean isStatic(String onnxName) {
        return staticNames.contains(onnxName);
    }

    /** True when input {@code i} is given and known at import time. */
    public boolean isStaticInput(OnnxNode node, int i) {
        return node.hasInput(i) && isStatic(node.input(i));
    }

    /**
     * The import-time content of a static value. Weights (trainable variables) also answer with their
     * current values, for arguments that SameDiff needs as plain numbers.
     */
    public INDArray staticValue(String onnxName) {
        INDArray cached = staticArrays.get(onnxName);
        if (cached != null) {
            return cached;
        }
        SDVariable v = value(onnxName);
        INDArray arr;
        if (v.getVariableType() == VariableType.CONSTANT || v.getVariableType() == VariableType.VARIABLE) {
            arr = v.getArr();
        } else if (isStatic(onnxName)) {
            arr = sd.output(Map.of(), v.name()).get(v.name());
        } else {
            return null;
        }
        staticArrays.put(onnxName, arr);
        return arr;
    }

    /** The content of input {@code i}, which must be known at import time (a shape, axes, pads...). */
    public INDArray constantInput(OnnxNode node, int i, String role) {
        if (!node.hasInput(i)) {
            throw node.error("input " + i + " (" + role + ") is missing");
        }
        INDArray arr = staticValue(node.input(i));
        if (arr == null) {
            throw node.error("input " + i + " (" + role + ", '" + node.input(i) + "') is computed at run time; "
                    + "graft needs it to be a constant here");
        }
        return arr;
    }

    /** The array behind a weight or constant of the graph being built, or null for computed values. */
    INDArray knownArray(String onnxName) {
        SDVariable v = values.get(onnxName);
        if (v == null) return null;
        return v.getVariableType() == VariableType.CONSTANT || v.getVariableType() == VariableType.VARIABLE ? v.getArr() : null;
    }

    /** Content of optional input {@code i} as longs, or null when it is omitted. */
    public long[] optionalLongs(OnnxNode node, int i, String role) {
        if (!node.hasInput(i)) {
            return null;
        }
        INDArray arr = constantInput(node, i, role);
        return arr.length() == 0 ? new long[0] : arr.castTo(DataType.LONG).data().asLong();
    }

    /** Wraps an array as a SameDiff constant with a generated name. */
    public SDVariable constant(INDArray arr) {
        return sd.constant(uniqueName("const"), arr);
    }

    public SDVariable scalar(DataType type, double value) {
        return constant(Nd4j.scalar(type, value));
    }

    // ---------------------------------------------------------------- shapes

    /** Shape of a value, -1 where the dimension depends on a dynamic input dimension. */
    public long[] shape(String onnxName) {
        long[] known = shapes.get(onnxName);
        if (known != null) {
            return known.clone();
        }
        INDArray stat = staticArrays.get(onnxName);
        SDVariable v = value(onnxName);
        if (stat == null && (v.getVariableType() == VariableType.CONSTANT || v.getVariableType() == VariableType.VARIABLE)) {
            stat = v.getArr();
        }
        long[] shape;
        if (stat != null) {
            shape = stat.shape().clone();
        } else if (v.getVariableType() == VariableType.PLACEHOLDER) {
            shape = v.placeholderShape();
        } else {
            shape = probe.shapeOf(onnxName);
        }
        shapes.put(onnxName, shape);
        return shape.clone();
    }

    public long[] inputShape(OnnxNode node, int i) {
        return shape(node.input(i));
    }

    public int rank(String onnxName) {
        return shape(onnxName).length;
    }

    public int inputRank(OnnxNode node, int i) {
        return rank(node.input(i));
    }

    /**
     * Refuses a tensor the node would create (ConstantOfShape, Expand, Tile, Range...) when its size is known
     * and beyond what graft handles: a corrupt or hostile shape must fail with a message, not exhaust memory
     * or crash in native code. Dynamic (-1) dimensions count as 1.
     */
    public static void checkCreatedSize(OnnxNode node, long[] shape, String what) {
        long count = 1;
        for (long d : shape) {
            if (d < -1) throw node.error(what + " has a negative dimension " + d + " in " + Arrays.toString(shape));
            try {
                count = Math.multiplyExact(count, Math.max(d, 1));
            } catch (ArithmeticException e) {
                count = Long.MAX_VALUE;
                break;
            }
        }
        if (count > OnnxTensors.MAX_ELEMENTS) {
            throw node.error(what + " of shape " + Arrays.toString(shape) + " would hold " + count
                    + " elements, more than graft supports in one tensor (" + OnnxTensors.MAX_ELEMENTS + ")");
        }
    }

    /** Normalises a possibly negative axis against a rank, failing with the node's name when out of range. */
    public static int axis(OnnxNode node, long axis, int rank) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw node.error("axis " + axis + " is out of range for rank " + rank);
        }
        return (int) a;
    }

    public DataType dataType(String onnxName) {
        return value(onnxName).dataType();
    }
}
