package dev.graft.tensorflow;

import dev.graft.GraftException;
import java.util.List;
import java.util.Locale;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * One TensorFlow node as the importer sees it: its NodeDef with typed attribute access, and its data inputs
 * already resolved (identities, dead Switch branches and inlined function boundaries looked through) as
 * tensor references "node:index". Errors name the node and its op.
 */
public final class TfNode {
    private final NodeDef def;
    private final List<String> inputs;

    TfNode(NodeDef def, List<String> inputs) {
        this.def = def;
        this.inputs = List.copyOf(inputs);
    }

    public String name() {
        return def.getName();
    }

    public String op() {
        return def.getOp();
    }

    public NodeDef def() {
        return def;
    }

    /** Data inputs as tensor references ("node:index"). */
    public List<String> inputs() {
        return inputs;
    }

    public int inputCount() {
        return inputs.size();
    }

    public String input(int i) {
        if (i >= inputs.size()) throw error("expects at least " + (i + 1) + " inputs, has " + inputs.size());
        return inputs.get(i);
    }

    public String describe() {
        return "TensorFlow node '" + name() + "' (" + op() + ")";
    }

    public GraftException error(String message) {
        return new GraftException(describe() + ": " + message);
    }

    public void unsupportedIf(boolean condition, String what) {
        if (condition) throw error(what + " is not supported");
    }

    public boolean has(String attr) {
        return def.containsAttr(attr);
    }

    private AttrValue attr(String name, AttrValue.ValueCase expected) {
        AttrValue a = def.getAttrOrDefault(name, null);
        if (a == null) return null;
        if (a.getValueCase() != expected) {
            throw error("attribute '" + name + "' is " + a.getValueCase() + ", expected " + expected);
        }
        return a;
    }

    private AttrValue required(String name, AttrValue.ValueCase expected) {
        AttrValue a = attr(name, expected);
        if (a == null) throw error("required attribute '" + name + "' is missing");
        return a;
    }

    public long getInt(String name, long fallback) {
        AttrValue a = attr(name, AttrValue.ValueCase.I);
        return a == null ? fallback : a.getI();
    }

    public long requireInt(String name) {
        return required(name, AttrValue.ValueCase.I).getI();
    }

    public float getFloat(String name, float fallback) {
        AttrValue a = attr(name, AttrValue.ValueCase.F);
        return a == null ? fallback : a.getF();
    }

    public boolean getBool(String name, boolean fallback) {
        AttrValue a = attr(name, AttrValue.ValueCase.B);
        return a == null ? fallback : a.getB();
    }

    public String getString(String name, String fallback) {
        AttrValue a = attr(name, AttrValue.ValueCase.S);
        return a == null ? fallback : a.getS().toStringUtf8();
    }

    public DataType getType(String name) {
        return required(name, AttrValue.ValueCase.TYPE).getType();
    }

    /** An int list attribute, or null when absent. */
    public long[] getInts(String name) {
        AttrValue a = attr(name, AttrValue.ValueCase.LIST);
        return a == null ? null : a.getList().getIList().stream().mapToLong(Long::longValue).toArray();
    }

    public long[] requireInts(String name) {
        long[] v = getInts(name);
        if (v == null) throw error("required attribute '" + name + "' is missing");
        return v;
    }

    /** "NHWC" (TensorFlow's default) or "NCHW"; anything else is refused. */
    public boolean channelsLast() {
        String f = getString("data_format", "NHWC").toUpperCase(Locale.ROOT);
        return switch (f) {
            case "NHWC", "NWC", "NDHWC" -> true;
            case "NCHW", "NCW", "NCDHW" -> false;
            default -> throw error("data_format '" + f + "' is not supported");
        };
    }
}
