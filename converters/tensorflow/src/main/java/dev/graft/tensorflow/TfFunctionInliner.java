package dev.graft.tensorflow;

import dev.graft.GraftException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

/**
 * Inlines calls of function-library functions, as TF 2.x SavedModels hide their whole computation behind
 * {@code StatefulPartitionedCall}. The body's nodes are copied into the graph under "call/", their inputs
 * rewritten from the function-body form ("arg", "node:out_arg:index") to graph form ("node:flat_index"), and
 * the call node itself becomes an IdentityN of the function's results, so every reader of "call:k" keeps
 * working and later stages look straight through it. Nested calls are inlined in turn.
 */
final class TfFunctionInliner {
    private static final int MAX_NODES = 5_000_000;

    private final Map<String, FunctionDef> functions = new HashMap<>();

    TfFunctionInliner(GraphDef graph) {
        for (FunctionDef f : graph.getLibrary().getFunctionList()) functions.put(f.getSignature().getName(), f);
    }

    boolean hasFunctions() {
        return !functions.isEmpty();
    }

    /** The graph with every reachable function call inlined (the library itself is dropped). */
    GraphDef inline(GraphDef graph) {
        if (functions.isEmpty()) return graph;
        List<NodeDef> out = new ArrayList<>();
        Deque<NodeDef> work = new ArrayDeque<>(graph.getNodeList());
        while (!work.isEmpty()) {
            NodeDef n = work.poll();
            FunctionDef f = calledFunction(n);
            if (f == null) {
                out.add(n);
                continue;
            }
            if (out.size() + work.size() > MAX_NODES) {
                throw new GraftException("inlining function '" + f.getSignature().getName()
                        + "' exceeds " + MAX_NODES + " nodes: recursive functions are not supported");
            }
            List<NodeDef> body = expand(n, f);
            // The body goes to the front of the queue so that nested calls in it are inlined too.
            for (int i = body.size() - 1; i >= 0; i--) work.addFirst(body.get(i));
        }
        return graph.toBuilder().clearNode().addAllNode(out).clearLibrary().build();
    }

    private FunctionDef calledFunction(NodeDef n) {
        String op = n.getOp();
        if (op.equals("StatefulPartitionedCall") || op.equals("PartitionedCall")) {
            AttrValue f = n.getAttrOrDefault("f", null);
            if (f == null || !f.hasFunc()) throw new GraftException("TensorFlow node '" + n.getName() + "' (" + op + "): no function attribute 'f'");
            FunctionDef def = functions.get(f.getFunc().getName());
            if (def == null) {
                throw new GraftException("TensorFlow node '" + n.getName() + "' (" + op + "): calls function '"
                        + f.getFunc().getName() + "', which the graph's function library does not hold");
            }
            return def;
        }
        return functions.get(op);
    }

    private List<NodeDef> expand(NodeDef call, FunctionDef f) {
        String prefix = call.getName() + "/";
        OpDef sig = f.getSignature();
        List<String> dataInputs = new ArrayList<>();
        for (String in : call.getInputList()) if (!in.startsWith("^")) dataInputs.add(in);
        if (dataInputs.size() != sig.getInputArgCount()) {
            throw new GraftException("TensorFlow node '" + call.getName() + "' (" + call.getOp() + "): passes "
                    + dataInputs.size() + " inputs to function '" + sig.getName() + "', which takes " + sig.getInputArgCount());
        }
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i < sig.getInputArgCount(); i++) args.put(sig.getInputArg(i).getName(), dataInputs.get(i));
        Map<String, NodeDef> bodyNodes = new HashMap<>();
        for (NodeDef b : f.getNodeDefList()) bodyNodes.put(b.getName(), b);

        List<NodeDef> out = new ArrayList<>();
        for (NodeDef b : f.getNodeDefList()) {
            NodeDef.Builder nb = b.toBuilder().setName(prefix + b.getName()).clearInput();
            for (String in : b.getInputList()) {
                if (in.startsWith("^")) continue; // control edges order side effects; the importer runs none
                nb.addInput(bodyRef(in, args, bodyNodes, prefix, f, call));
            }
            for (Map.Entry<String, AttrValue> a : b.getAttrMap().entrySet()) {
                if (!a.getValue().getPlaceholder().isEmpty()) {
                    AttrValue v = call.getAttrOrDefault(a.getValue().getPlaceholder(), null);
                    if (v == null) {
                        throw new GraftException("function '" + sig.getName() + "', node '" + b.getName()
                                + "': attribute '" + a.getKey() + "' refers to '" + a.getValue().getPlaceholder()
                                + "', which the call '" + call.getName() + "' does not set");
                    }
                    nb.putAttr(a.getKey(), v);
                }
            }
            out.add(nb.build());
        }
        NodeDef.Builder results = NodeDef.newBuilder().setName(call.getName()).setOp("IdentityN");
        AttrValue.ListValue.Builder types = AttrValue.ListValue.newBuilder();
        for (OpDef.ArgDef o : sig.getOutputArgList()) {
            String ret = f.getRetMap().get(o.getName());
            if (ret == null) throw new GraftException("function '" + sig.getName() + "': no result for output '" + o.getName() + "'");
            results.addInput(bodyRef(ret, args, bodyNodes, prefix, f, call));
            types.addType(o.getType());
        }
        results.putAttr("T", AttrValue.newBuilder().setList(types).build());
        out.add(results.build());
        return out;
    }

    /** A function-body tensor reference in graph form. */
    private String bodyRef(String ref, Map<String, String> args, Map<String, NodeDef> body, String prefix,
                           FunctionDef f, NodeDef call) {
        String[] parts = ref.split(":");
        if (parts.length == 1) {
            String arg = args.get(ref);
            if (arg != null) return arg;
            if (body.containsKey(ref)) return prefix + ref; // plain node name: its output 0
            throw new GraftException("function '" + f.getSignature().getName() + "' (called by '" + call.getName()
                    + "'): unknown input '" + ref + "'");
        }
        NodeDef producer = body.get(parts[0]);
        if (producer == null) {
            throw new GraftException("function '" + f.getSignature().getName() + "' (called by '" + call.getName()
                    + "'): input '" + ref + "' names no node of the function");
        }
        if (parts.length == 2) return prefix + parts[0] + ":" + parts[1];
        int index = Integer.parseInt(parts[2]);
        return prefix + parts[0] + ":" + (outputOffset(producer, parts[1], f) + index);
    }

    /** Flat index of the first tensor of output argument {@code argName} of {@code producer}. */
    private int outputOffset(NodeDef producer, String argName, FunctionDef f) {
        // A node whose op is a function's name has that function's outputs; a (Stateful)PartitionedCall has
        // the single list argument "output" of its op definition.
        FunctionDef called = functions.get(producer.getOp());
        List<OpDef.ArgDef> outputs;
        if (called != null) {
            outputs = called.getSignature().getOutputArgList();
        } else {
            OpDef def = TfOpDefs.get(producer.getOp());
            if (def == null) {
                throw new GraftException("function '" + f.getSignature().getName() + "', node '" + producer.getName()
                        + "': op '" + producer.getOp() + "' is unknown to TensorFlow " + org.tensorflow.TensorFlow.version());
            }
            outputs = def.getOutputArgList();
        }
        int offset = 0;
        for (OpDef.ArgDef a : outputs) {
            if (a.getName().equals(argName)) return offset;
            offset += called != null ? 1 : TfOpDefs.argSize(a, producer);
        }
        throw new GraftException("function '" + f.getSignature().getName() + "', node '" + producer.getName()
                + "': op '" + producer.getOp() + "' has no output argument '" + argName + "'");
    }
}
