package dev.graft.tensorflow;

import dev.graft.GraftException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Finds what the requested outputs need, and only that: walking back from them over data edges it looks
 * through identities (Identity, IdentityN, StopGradient, ReadVariableOp, an unfed PlaceholderWithDefault),
 * resolves Switch/Merge pairs whose predicate is a constant (dropout and batch-norm branches keyed on a
 * "training" flag that defaults to false), and drops the dead branch. Training ops, savers and optimizer
 * state that no output needs are never visited, so a training graph imports when its inference path does.
 */
final class TfGraphResolver {
    /** A tensor no live value reaches (the untaken side of a Switch). */
    static final String DEAD = "<dead>";

    private static final Set<String> PASS_THROUGH = Set.of("Identity", "StopGradient", "Snapshot",
            "PreventGradient", "CheckNumerics", "ReadVariableOp", "EnsureShape");
    static final Set<String> VARIABLE_OPS = Set.of("VariableV2", "Variable", "VarHandleOp");

    private final String file;
    private final Map<String, NodeDef> nodes = new LinkedHashMap<>();
    private final Set<String> fedNodes;
    /** Per completed node: the resolved reference of each of its outputs that was asked for. */
    private final Map<String, Map<Integer, String>> aliases = new HashMap<>();
    private final Map<String, List<String>> resolvedInputs = new HashMap<>();
    private final Set<String> dead = new HashSet<>();
    private final Set<String> completed = new HashSet<>();

    /** {@code fedNodes}: nodes the caller feeds (so a PlaceholderWithDefault among them is an input). */
    TfGraphResolver(String file, GraphDef graph, Set<String> fedNodes) {
        this.file = file;
        for (NodeDef n : graph.getNodeList()) {
            if (nodes.put(n.getName(), n) != null) throw new GraftException(file + ": two nodes are named '" + n.getName() + "'");
        }
        this.fedNodes = fedNodes;
    }

    Map<String, NodeDef> nodes() {
        return nodes;
    }

    /** "name" -> "name:0"; "name:k" stays; control references are refused. */
    static String normalize(String ref) {
        int colon = ref.lastIndexOf(':');
        if (colon > 0 && ref.substring(colon + 1).chars().allMatch(Character::isDigit) && colon < ref.length() - 1) return ref;
        return ref + ":0";
    }

    static String nodeOf(String ref) {
        return ref.substring(0, ref.lastIndexOf(':'));
    }

    static int indexOf(String ref) {
        return Integer.parseInt(ref.substring(ref.lastIndexOf(':') + 1));
    }

    /** The live tensor a reference stands for, or {@link #DEAD}. */
    String resolve(String ref) {
        String r = normalize(ref);
        String node = nodeOf(r);
        if (!nodes.containsKey(node)) throw new GraftException(file + ": no node named '" + node + "'");
        complete(node);
        if (dead.contains(node)) return DEAD;
        Map<Integer, String> a = aliases.get(node);
        if (a != null) {
            String v = a.get(indexOf(r));
            if (v == null) throw new GraftException(file + ": node '" + node + "' has no output " + indexOf(r));
            return v;
        }
        return r;
    }

    /**
     * The nodes the given (resolved) tensors need, inputs before readers, each with its inputs resolved.
     * Variables and placeholders are among them; nothing else that is not on a path to an output is.
     */
    List<TfNode> needed(List<String> resolvedOutputs) {
        List<TfNode> order = new ArrayList<>();
        Set<String> visited = new HashSet<>();
        Deque<String[]> stack = new ArrayDeque<>();
        List<String> roots = new ArrayList<>();
        for (String out : resolvedOutputs) if (!out.equals(DEAD)) roots.add(nodeOf(out));
        for (int i = roots.size() - 1; i >= 0; i--) stack.push(new String[]{roots.get(i), "enter"});
        while (!stack.isEmpty()) {
            String[] top = stack.pop();
            String name = top[0];
            if (top[1].equals("exit")) {
                order.add(new TfNode(nodes.get(name), resolvedInputs.getOrDefault(name, List.of())));
                continue;
            }
            if (!visited.add(name)) continue;
            stack.push(new String[]{name, "exit"});
            List<String> ins = resolvedInputs.getOrDefault(name, List.of());
            for (int i = ins.size() - 1; i >= 0; i--) {
                String p = nodeOf(ins.get(i));
                if (!visited.contains(p)) stack.push(new String[]{p, "enter"});
            }
        }
        return order;
    }

    /** Resolves {@code start} and everything it reads, inputs first (iteratively: graphs can be deep). */
    private void complete(String start) {
        if (completed.contains(start)) return;
        Deque<Object[]> stack = new ArrayDeque<>();
        Set<String> onPath = new HashSet<>();
        stack.push(new Object[]{start, false});
        while (!stack.isEmpty()) {
            Object[] frame = stack.pop();
            String name = (String) frame[0];
            NodeDef n = nodes.get(name);
            if ((Boolean) frame[1]) {
                resolveNode(n);
                completed.add(name);
                onPath.remove(name);
                continue;
            }
            if (completed.contains(name)) continue;
            if (onPath.contains(name)) {
                throw new GraftException(file + ": node '" + name + "' (" + n.getOp() + ") is on a cycle; loops "
                        + "(while_loop, NextIteration) are not supported");
            }
            onPath.add(name);
            stack.push(new Object[]{name, true});
            for (String in : dataInputs(n)) {
                String p = nodeOf(normalize(in));
                if (!nodes.containsKey(p)) {
                    throw new GraftException(file + ": node '" + name + "' (" + n.getOp() + ") reads '" + in
                            + "', but the graph has no node named '" + p + "'");
                }
                if (!completed.contains(p)) stack.push(new Object[]{p, false});
            }
        }
    }

    private static List<String> dataInputs(NodeDef n) {
        List<String> r = new ArrayList<>();
        for (String in : n.getInputList()) if (!in.startsWith("^")) r.add(in);
        return r;
    }

    /** Resolves a node whose inputs' producers are all complete. */
    private void resolveNode(NodeDef n) {
        String name = n.getName();
        List<String> ins = new ArrayList<>();
        for (String in : dataInputs(n)) ins.add(resolveCompleted(normalize(in)));
        String op = n.getOp();
        boolean fed = fedNodes.contains(name);
        if (!fed && (PASS_THROUGH.contains(op) || op.equals("PlaceholderWithDefault"))) {
            if (ins.isEmpty()) throw new GraftException(file + ": node '" + name + "' (" + op + ") has no input");
            if (ins.get(0).equals(DEAD)) dead.add(name);
            else aliases.put(name, Map.of(0, ins.get(0)));
            return;
        }
        if (op.equals("IdentityN")) {
            Map<Integer, String> a = new HashMap<>();
            for (int i = 0; i < ins.size(); i++) a.put(i, ins.get(i));
            aliases.put(name, a);
            return;
        }
        if (op.equals("Switch") || op.equals("RefSwitch")) {
            if (ins.size() != 2) throw new GraftException(file + ": node '" + name + "' (Switch) needs 2 inputs");
            if (ins.get(1).equals(DEAD) || ins.get(0).equals(DEAD)) {
                dead.add(name);
                return;
            }
            boolean taken = constantPredicate(n, ins.get(1));
            Map<Integer, String> a = new HashMap<>();
            a.put(taken ? 1 : 0, ins.get(0));
            a.put(taken ? 0 : 1, DEAD);
            aliases.put(name, a);
            return;
        }
        if (op.equals("Merge") || op.equals("RefMerge")) {
            String live = null;
            for (String in : ins) {
                if (in.equals(DEAD)) continue;
                if (live != null) {
                    throw new GraftException(file + ": node '" + name + "' (Merge) has more than one live input ("
                            + live + ", " + in + "); only Switch/Merge pairs with a constant predicate are supported");
                }
                live = in;
            }
            if (live == null) dead.add(name);
            else aliases.put(name, Map.of(0, live));
            return;
        }
        if (ins.contains(DEAD)) {
            dead.add(name);
            return;
        }
        resolvedInputs.put(name, ins);
    }

    private String resolveCompleted(String ref) {
        String node = nodeOf(ref);
        if (dead.contains(node)) return DEAD;
        Map<Integer, String> a = aliases.get(node);
        if (a == null) return ref;
        String v = a.get(indexOf(ref));
        if (v == null) throw new GraftException(file + ": node '" + node + "' has no output " + indexOf(ref));
        return v;
    }

    private boolean constantPredicate(NodeDef sw, String predRef) {
        NodeDef p = nodes.get(nodeOf(predRef));
        if (p.getOp().equals("Const") && p.getAttrOrThrow("dtype").getType() == DataType.DT_BOOL) {
            TensorProto t = p.getAttrOrThrow("value").getTensor();
            if (t.getBoolValCount() > 0) return t.getBoolVal(0);
            if (!t.getTensorContent().isEmpty()) return t.getTensorContent().byteAt(0) != 0;
            return false;
        }
        throw new GraftException(file + ": node '" + sw.getName() + "' (Switch) branches on '" + predRef + "' ("
                + p.getOp() + "), which is not a constant; graft imports control flow only when the branch is fixed "
                + "(for example a 'training' flag left at its default)");
    }
}
