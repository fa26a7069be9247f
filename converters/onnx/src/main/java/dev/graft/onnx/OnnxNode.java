package dev.graft.onnx;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.graft.GraftException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A read-only view of an ONNX node with typed attribute access. Attributes are parsed once; a wrong type
 * or a missing required attribute names the node, e.g.
 * {@code Node 'fc1' (Gemm, opset 13): attribute 'transB' expected INT, found FLOATS}.
 */
public final class OnnxNode {

    private final NodeProto proto;
    private final int opset;
    private final Map<String, AttributeProto> attributes;
    private final String displayName;

    public OnnxNode(NodeProto proto, int opset, int index) {
        this.proto = proto;
        this.opset = opset;
        Map<String, AttributeProto> attrs = new LinkedHashMap<>();
        for (AttributeProto a : proto.getAttributeList()) {
            attrs.put(a.getName(), a);
        }
        this.attributes = Collections.unmodifiableMap(attrs);
        this.displayName = proto.getName().isEmpty() ? "#" + index : proto.getName();
    }

    public String name() {
        return displayName;
    }

    public String opType() {
        return proto.getOpType();
    }

    public String domain() {
        return proto.getDomain();
    }

    public int opset() {
        return opset;
    }

    public NodeProto proto() {
        return proto;
    }

    public List<String> inputs() {
        return proto.getInputList();
    }

    public List<String> outputs() {
        return proto.getOutputList();
    }

    public int inputCount() {
        return proto.getInputCount();
    }

    public int outputCount() {
        return proto.getOutputCount();
    }

    /** True when input {@code i} is given (ONNX marks an omitted optional input with an empty name). */
    public boolean hasInput(int i) {
        return i < proto.getInputCount() && !proto.getInput(i).isEmpty();
    }

    public String input(int i) {
        return i < proto.getInputCount() ? proto.getInput(i) : "";
    }

    public String output(int i) {
        return proto.getOutput(i);
    }

    public boolean hasOutput(int i) {
        return i < proto.getOutputCount() && !proto.getOutput(i).isEmpty();
    }

    public boolean has(String attribute) {
        return attributes.containsKey(attribute);
    }

    public java.util.Set<String> attributeNames() {
        return attributes.keySet();
    }

    /** The prefix every message about this node starts with. */
    public String describe() {
        return "Node '" + displayName + "' (" + opType() + (domain().isEmpty() ? "" : ", domain " + domain())
                + ", opset " + opset + ")";
    }

    public GraftException error(String message) {
        return new GraftException(describe() + ": " + message);
    }

    private AttributeProto typed(String name, AttributeProto.AttributeType expected) {
        AttributeProto a = attributes.get(name);
        if (a == null) {
            return null;
        }
        if (a.getType() != expected && !(a.getType() == AttributeProto.AttributeType.UNDEFINED && looksLike(a, expected))) {
            throw error("attribute '" + name + "' expected " + expected + ", found " + a.getType());
        }
        return a;
    }

    /** Old exporters sometimes leave the type unset; accept the value when the matching field is filled. */
    private static boolean looksLike(AttributeProto a, AttributeProto.AttributeType expected) {
        return switch (expected) {
            case INT -> a.hasI();
            case FLOAT -> a.hasF();
            case STRING -> a.hasS();
            case TENSOR -> a.hasT();
            case INTS -> a.getIntsCount() > 0;
            case FLOATS -> a.getFloatsCount() > 0;
            default -> false;
        };
    }

    private AttributeProto required(String name, AttributeProto.AttributeType expected) {
        AttributeProto a = typed(name, expected);
        if (a == null) {
            throw error("required attribute '" + name + "' (" + expected + ") is missing");
        }
        return a;
    }

    public long getLong(String name, long defaultValue) {
        AttributeProto a = typed(name, AttributeProto.AttributeType.INT);
        return a == null ? defaultValue : a.getI();
    }

    public int getInt(String name, int defaultValue) {
        return Math.toIntExact(getLong(name, defaultValue));
    }

    public int requireInt(String name) {
        return Math.toIntExact(required(name, AttributeProto.AttributeType.INT).getI());
    }

    public float getFloat(String name, float defaultValue) {
        AttributeProto a = typed(name, AttributeProto.AttributeType.FLOAT);
        return a == null ? defaultValue : a.getF();
    }

    public String getString(String name, String defaultValue) {
        AttributeProto a = typed(name, AttributeProto.AttributeType.STRING);
        return a == null ? defaultValue : a.getS().toStringUtf8();
    }

    /** INTS attribute, or null when absent. */
    public long[] getLongs(String name) {
        AttributeProto a = typed(name, AttributeProto.AttributeType.INTS);
        return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    public long[] getLongs(String name, long[] defaultValue) {
        long[] v = getLongs(name);
        return v == null ? defaultValue : v;
    }

    public int[] getInts(String name, int[] defaultValue) {
        long[] v = getLongs(name);
        if (v == null) return defaultValue;
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Math.toIntExact(v[i]);
        return out;
    }

    public float[] getFloats(String name) {
        AttributeProto a = typed(name, AttributeProto.AttributeType.FLOATS);
        if (a == null) return null;
        float[] out = new float[a.getFloatsCount()];
        for (int i = 0; i < out.length; i++) out[i] = a.getFloats(i);
        return out;
    }

    public TensorProto getTensor(String name) {
        AttributeProto a = typed(name, AttributeProto.AttributeType.TENSOR);
        return a == null ? null : a.getT();
    }

    /** Fails the conversion when an attribute is set to a value graft does not implement. */
    public void unsupportedIf(boolean condition, String what) {
        if (condition) {
            throw error(what + " is not supported");
        }
    }
}
