package dev.graft.onnx.export;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.graft.onnx.OnnxTensors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Pushes Transposes down the graph, through the ops they commute with, until they meet a Transpose that
 * cancels them (or leave the graph at an output), in the manner of tf2onnx's transpose optimiser. A
 * channels-last graph (TensorFlow's) exports every convolution and pooling as Transpose to channels first,
 * the op, Transpose back; pushed, the Transpose back meets the next op's Transpose to channels first and
 * both vanish, so consecutive convolutions run in channels-first layout with nothing between them.
 *
 * <p>A Transpose {@code T(a)} moves below a node when every node reading it accepts it (a Transpose read by
 * a graph output stays where it is). The node is rewritten to read {@code a} and a Transpose after it
 * restores its outputs under their old names:
 * <ul>
 * <li>elementwise unary ops (Relu, Clip, Sigmoid, Cast, ...): as they are;</li>
 * <li>elementwise ops of several inputs (Add, Mul, Max, Where, ...): every other input is brought to
 *     {@code a}'s layout: the input of a Transpose with the same permutation, a constant transposed here, a
 *     tensor of lower rank reshaped by an Unsqueeze (a [C] bias broadcasting over the last axis of NHWC
 *     becomes [C, 1, 1] in NCHW), or the output of a Transpose the graph already has;</li>
 * <li>Concat, Split, Slice, Pad (without axes input), Squeeze (with axes), ArgMax/ArgMin and the Reduce ops:
 *     their axes (pads) are permuted; a reduction without keepdims (or a Squeeze) needs no Transpose after it
 *     when the remaining axes keep their order (global pooling of NHWC: [N, C]);</li>
 * <li>Shape: reads {@code a}, and a Gather puts the sizes back in order;</li>
 * <li>Transpose: the two permutations are composed (identity: both go).</li>
 * </ul>
 * Ops that care about layout (Conv, MaxPool, MatMul, Reshape, Softmax, ...) stop a Transpose. A push that
 * adds no Transpose (one reader, or readers that cancel it) is always made; one that adds Transposes (at a
 * branch) is tried on a copy, carried on as far as it goes, and kept only when the graph ends with fewer
 * Transposes. Identical Transposes of the same value are merged. Transposes of initializers are left to
 * constant folding and {@link ConvWeightLayoutPass}.
 */
final class TransposePushPass implements ExportPass {

    private static final Set<String> UNARY = Set.of("Relu", "LeakyRelu", "Elu", "Selu", "Celu", "ThresholdedRelu",
            "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus", "Softsign", "Mish", "Gelu", "Clip", "Exp",
            "Log", "Abs", "Neg", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Erf", "Sin", "Cos", "Tan",
            "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Not", "Cast", "Identity", "IsNaN",
            "IsInf", "Shrink");
    private static final Set<String> ELEMENTWISE = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min",
            "Sum", "Mean", "PRelu", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor",
            "BitShift", "Where");
    private static final Set<String> REDUCE = Set.of("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
            "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp");

    private final Set<String> taken = new HashSet<>();
    private int counter;

    /**
     * A planned rewrite of one reader of the Transpose: how many Transposes it adds, and the edit; {@code last}
     * for edits that rename a value everywhere, which go after the others (already planned nodes may read it).
     */
    private record Plan(int added, Runnable apply, boolean last, boolean renamesSource) {
        Plan(int added, Runnable apply) {
            this(added, apply, false, false);
        }
    }

    @Override
    public boolean run(ExportGraph g) {
        for (NodeProto n : g.nodes) {
            taken.addAll(n.getOutputList());
            taken.add(n.getName());
        }
        taken.addAll(g.initializers.keySet());
        taken.addAll(g.inputNames());
        boolean changed = settle(g);
        // Pushes that add Transposes at a branch: kept when they lead to fewer in the end.
        boolean improved = true;
        while (improved) {
            improved = false;
            int before = transposeCount(g);
            for (String name : transposeNames(g)) {
                ExportGraph trial = g.copy();
                NodeProto t = byOutput(trial, name);
                if (t == null || !push(trial, t, true)) continue;
                settle(trial);
                if (transposeCount(trial) < before) {
                    g.replaceWith(trial);
                    improved = true;
                    changed = true;
                    break;
                }
            }
        }
        return changed;
    }

    /** Merges duplicates and makes every push that adds no Transpose, until none is left. */
    private boolean settle(ExportGraph g) {
        boolean changed = false;
        boolean progress = true;
        while (progress) {
            progress = mergeDuplicates(g);
            for (String name : transposeNames(g)) {
                NodeProto t = byOutput(g, name);
                if (t != null && push(g, t, false)) progress = true;
            }
            changed |= progress;
        }
        return changed;
    }

    static int transposeCount(ExportGraph g) {
        return (int) g.nodes.stream().filter(TransposePushPass::isTranspose).count();
    }

    private static List<String> transposeNames(ExportGraph g) {
        return g.nodes.stream().filter(TransposePushPass::isTranspose).map(n -> n.getOutput(0)).toList();
    }

    /** The Transpose making {@code output}, or null (gone, or the name is now another node's). */
    private static NodeProto byOutput(ExportGraph g, String output) {
        for (NodeProto n : g.nodes) if (isTranspose(n) && n.getOutput(0).equals(output)) return n;
        return null;
    }

    /** Transposes of the same value by the same permutation: readers of the later ones read the first. */
    private static boolean mergeDuplicates(ExportGraph g) {
        Map<String, NodeProto> first = new HashMap<>();
        Set<String> outputs = g.outputNames();
        boolean changed = false;
        for (int k = 0; k < g.nodes.size(); k++) {
            NodeProto n = g.nodes.get(k);
            if (!isTranspose(n)) continue;
            String key = n.getInput(0) + " " + Arrays.toString(perm(n));
            NodeProto kept = first.putIfAbsent(key, n);
            if (kept == null || outputs.contains(n.getOutput(0))) continue;
            g.nodes.remove(k--);
            g.renameUses(n.getOutput(0), kept.getOutput(0));
            changed = true;
        }
        return changed;
    }

    // ---------------------------------------------------------------- one push

    /**
     * Moves Transpose {@code t} below every node reading it, when each accepts; with {@code allowGrowth} false
     * only when that adds at most the one Transpose it removes.
     */
    private boolean push(ExportGraph g, NodeProto t, boolean allowGrowth) {
        long[] p = perm(t);
        String src = t.getInput(0);
        String out = t.getOutput(0);
        if (g.initializers.containsKey(src) || g.outputNames().contains(out)) return false;
        List<NodeProto> readers = g.consumers().getOrDefault(out, List.of());
        if (readers.isEmpty()) return false;
        List<Plan> plans = new ArrayList<>();
        int added = 0;
        for (NodeProto r : readers) {
            Plan plan = plan(g, r, t, p, allowGrowth);
            if (plan == null) return false;
            plans.add(plan);
            added += plan.added();
        }
        if (!allowGrowth && added > 1) return false;
        if (plans.stream().filter(Plan::renamesSource).count() > 1) return false; // a only gets one new name
        plans.stream().filter(pl -> !pl.last()).forEach(pl -> pl.apply().run());
        plans.stream().filter(Plan::last).forEach(pl -> pl.apply().run());
        g.nodes.remove(t);
        return true;
    }

    private Plan plan(ExportGraph g, NodeProto n, NodeProto t, long[] p, boolean allowGrowth) {
        if (!n.getDomain().isEmpty()) return null;
        String out = t.getOutput(0);
        String src = t.getInput(0);
        String op = n.getOpType();
        int rank = p.length;
        if (isTranspose(n)) return composed(g, n, src, p);
        if (UNARY.contains(op) || (op.equals("Dropout") && n.getOutputCount() == 1)) {
            if (!onlyFirst(n, out)) return null;
            return through(g, n, withInput(n, 0, src), p);
        }
        if (ELEMENTWISE.contains(op)) return throughEveryInput(g, n, n.toBuilder(), out, src, p, allowGrowth, false);
        if (op.equals("Concat")) {
            long axis = normalize(attrInt(n, "axis", 0), rank);
            NodeProto.Builder b = n.toBuilder();
            setAttr(b, "axis", p[(int) axis]);
            return throughEveryInput(g, n, b, out, src, p, allowGrowth, true);
        }
        if (REDUCE.contains(op)) return reduce(g, n, src, out, p);
        if (op.equals("ArgMax") || op.equals("ArgMin")) {
            if (!onlyFirst(n, out)) return null;
            long axis = normalize(attrInt(n, "axis", 0), rank);
            NodeProto.Builder b = withInput(n, 0, src).toBuilder();
            setAttr(b, "axis", p[(int) axis]);
            return reduced(g, n, b.build(), p, new long[]{axis}, attrInt(n, "keepdims", 1) != 0);
        }
        if (op.equals("Squeeze")) {
            // Like a reduction without keepdims over the squeezed axes (given: which ones are 1 is not known here).
            if (!onlyFirst(n, out) || n.getInputCount() < 2 || !g.isFoldableConstant(n.getInput(1))) return null;
            long[] axes = ConvWeightLayoutPass.longs(g.initializers.get(n.getInput(1)));
            long[] normalized = new long[axes.length];
            long[] moved = new long[axes.length];
            for (int i = 0; i < axes.length; i++) {
                normalized[i] = normalize(axes[i], rank);
                moved[i] = p[(int) normalized[i]];
            }
            Arrays.sort(moved);
            String name = fresh(n.getInput(1) + "_permuted");
            Plan plan = reduced(g, n, withInput(n, 0, src).toBuilder().setInput(1, name).build(), p, normalized, false);
            return new Plan(plan.added(), () -> {
                g.initializers.put(name, OnnxTensors.toProto(name, Nd4j.createFromArray(moved)));
                plan.apply().run();
            });
        }
        if (op.equals("Pad")) return pad(g, n, src, out, p);
        if (op.equals("Slice")) return slice(g, n, src, out, p);
        if (op.equals("Split")) {
            if (!onlyFirst(n, out)) return null;
            long axis = normalize(attrInt(n, "axis", 0), rank);
            NodeProto.Builder b = withInput(n, 0, src).toBuilder();
            setAttr(b, "axis", p[(int) axis]);
            return through(g, n, b.build(), p);
        }
        if (op.equals("Shape") && n.getAttributeCount() == 0) {
            // Shape(T(a)) is Shape(a) gathered in T's order.
            return new Plan(0, () -> {
                String s = fresh(n.getOutput(0) + "_unpermuted");
                String order = constant(g, "perm", Nd4j.createFromArray(p));
                int at = g.nodes.indexOf(n);
                g.nodes.set(at, n.toBuilder().setInput(0, src).setOutput(0, s).build());
                g.nodes.add(at + 1, NodeProto.newBuilder().setOpType("Gather").setName(fresh("Gather_" + s))
                        .addInput(s).addInput(order).addOutput(n.getOutput(0))
                        .addAttribute(intAttr("axis", 0)).build());
                g.ranks.put(s, 1);
            });
        }
        return null;
    }

    /** A Transpose reading a Transpose: one Transpose by the composed permutation, none for the identity. */
    private Plan composed(ExportGraph g, NodeProto n, String src, long[] inner) {
        long[] outer = perm(n);
        if (outer == null || outer.length != inner.length) return null;
        long[] total = new long[outer.length];
        for (int i = 0; i < outer.length; i++) total[i] = inner[(int) outer[i]];
        if (!isIdentity(total)) {
            return new Plan(0, () -> {
                int at = g.nodes.indexOf(n);
                NodeProto.Builder b = n.toBuilder().setInput(0, src).clearAttribute();
                b.addAttribute(intsAttr("perm", total));
                g.nodes.set(at, b.build());
            });
        }
        String out = n.getOutput(0);
        if (!g.outputNames().contains(out)) {
            return new Plan(0, () -> {
                g.nodes.remove(n);
                g.renameUses(out, src);
            }, true, false);
        }
        // The pair makes a graph output: the node making src makes it under the output's name instead.
        NodeProto maker = g.producers().get(src);
        if (maker == null || g.outputNames().contains(src)) return null;
        return new Plan(0, () -> {
            g.nodes.remove(n);
            NodeProto current = g.producers().get(src);
            int at = g.nodes.indexOf(current);
            NodeProto.Builder b = current.toBuilder();
            for (int i = 0; i < b.getOutputCount(); i++) if (b.getOutput(i).equals(src)) b.setOutput(i, out);
            g.nodes.set(at, b.build());
            g.renameUses(src, out);
        }, true, true);
    }

    /**
     * Writes {@code rewritten} (node {@code n} reading the untransposed value) in place of {@code n}, its outputs
     * under new names, each followed by a Transpose by {@code p} to the old name.
     */
    /**
     * Pushes through a node with several data inputs (elementwise ops, Concat): the pushed value replaces
     * {@code out}, every other input is adapted to the new layout first. {@code b} carries the node's
     * rewritten attributes.
     */
    private Plan throughEveryInput(ExportGraph g, NodeProto n, NodeProto.Builder b, String out, String src, long[] p,
                                   boolean allowGrowth, boolean sameRank) {
        List<Runnable> before = new ArrayList<>();
        int added = 1;
        for (int i = 0; i < n.getInputCount(); i++) {
            String in = n.getInput(i);
            if (in.equals(out)) {
                b.setInput(i, src);
                continue;
            }
            Adapted a = adapt(g, in, p, allowGrowth, sameRank);
            if (a == null) return null;
            added += a.added;
            if (a.make != null) before.add(a.make);
            b.setInput(i, a.value);
        }
        Plan after = through(g, n, b.build(), p);
        return new Plan(added, () -> {
            before.forEach(Runnable::run);
            after.apply().run();
        });
    }

    private Plan through(ExportGraph g, NodeProto n, NodeProto rewritten, long[] p) {
        int outs = (int) n.getOutputList().stream().filter(o -> !o.isEmpty()).count();
        return new Plan(outs, () -> {
            int at = g.nodes.indexOf(n);
            NodeProto.Builder b = rewritten.toBuilder();
            List<NodeProto> transposes = new ArrayList<>();
            for (int i = 0; i < b.getOutputCount(); i++) {
                String o = b.getOutput(i);
                if (o.isEmpty()) continue;
                String moved = fresh(o + "_pushed");
                b.setOutput(i, moved);
                Integer r = g.ranks.get(o);
                if (r != null) g.ranks.put(moved, r);
                transposes.add(transposeNode(moved, o, p));
            }
            g.nodes.set(at, b.build());
            g.nodes.addAll(at + 1, transposes);
        });
    }

    private NodeProto transposeNode(String in, String out, long[] perm) {
        return NodeProto.newBuilder().setOpType("Transpose").setName(fresh("Transpose_" + out)).addInput(in)
                .addOutput(out).addAttribute(intsAttr("perm", perm)).build();
    }

    /** A value brought to the untransposed layout: its name, the edit making it (or null), Transposes added. */
    private record Adapted(String value, Runnable make, int added) {
    }

    /**
     * Input {@code v} of an elementwise node (or, {@code sameRank}, of a Concat) whose other input is T(a) with
     * permutation {@code p}, as the value that plays its part next to a itself; null when that would take a new
     * Transpose of a run-time value and {@code allowGrowth} is false, or the rank of {@code v} is unknown.
     */
    private Adapted adapt(ExportGraph g, String v, long[] p, boolean allowGrowth, boolean sameRank) {
        int rank = p.length;
        long[] inverse = inverse(p);
        Map<String, NodeProto> producers = g.producers();
        NodeProto prod = producers.get(v);
        if (prod != null && isTranspose(prod) && Arrays.equals(perm(prod), p)) {
            return new Adapted(prod.getInput(0), null, 0);
        }
        Integer r = rankOf(g, v, producers);
        if (r == null || r > rank || (sameRank && r != rank)) return null;
        if (r == 0) return new Adapted(v, null, 0);
        if (g.isFoldableConstant(v)) {
            // Broadcast from the right, so the constant's axes are T(a)'s last ones; transposed here.
            INDArray c = OnnxTensors.toArray(g.initializers.get(v), null, v);
            long[] padded = new long[rank];
            Arrays.fill(padded, 1);
            System.arraycopy(c.shape(), 0, padded, rank - r, r);
            INDArray moved = c.reshape(padded).permute(Arrays.stream(inverse).mapToInt(x -> (int) x).toArray()).dup('c');
            String name = fresh(v + "_transposed");
            return new Adapted(name, () -> {
                g.initializers.put(name, OnnxTensors.toProto(name, moved));
            }, 0);
        }
        // Lower rank: v's axes are T(a)'s last r axes, which sit at axes p[rank - r..] of a. In increasing order
        // that is only a reshape: v with unit axes inserted, as many leading ones dropped as broadcasting allows.
        boolean inOrder = true;
        for (int j = rank - r + 1; j < rank; j++) inOrder &= p[j] > p[j - 1];
        if (inOrder && r < rank) {
            long first = p[rank - r];
            int newRank = rank - (int) first;
            Set<Long> kept = new HashSet<>();
            for (int j = rank - r; j < rank; j++) kept.add(p[j] - first);
            long[] axes = java.util.stream.LongStream.range(0, newRank).filter(a -> !kept.contains(a)).toArray();
            if (axes.length == 0) return new Adapted(v, null, 0);
            String name = fresh(v + "_unsqueezed");
            return new Adapted(name, () -> {
                String axesName = constant(g, "axes", Nd4j.createFromArray(axes));
                int at = firstReader(g, v);
                g.nodes.add(at, NodeProto.newBuilder().setOpType("Unsqueeze").setName(fresh("Unsqueeze_" + name))
                        .addInput(v).addInput(axesName).addOutput(name).build());
                g.ranks.put(name, newRank);
            }, 0);
        }
        if (r != rank) return null;
        // Same rank: T^-1(v). An existing Transpose of v by the inverse permutation costs nothing.
        for (NodeProto n : g.nodes) {
            if (isTranspose(n) && n.getInput(0).equals(v) && Arrays.equals(perm(n), inverse)) {
                return new Adapted(n.getOutput(0), null, 0);
            }
        }
        if (!allowGrowth) return null;
        String name = fresh(v + "_transposed");
        return new Adapted(name, () -> {
            g.nodes.add(firstReader(g, v), transposeNode(v, name, inverse));
            g.ranks.put(name, rank);
        }, 1);
    }

    /**
     * The rank of {@code v}: known to the graph, or that of a Transpose's or an elementwise op's result whose
     * inputs' ranks are known (values the exporters made on their own have no probed rank).
     */
    private static Integer rankOf(ExportGraph g, String v, Map<String, NodeProto> producers) {
        Integer known = g.rank(v);
        if (known != null) return known;
        NodeProto p = producers.get(v);
        if (p == null || !p.getDomain().isEmpty()) return null;
        if (isTranspose(p)) return perm(p).length;
        if (UNARY.contains(p.getOpType()) && p.getOutputCount() == 1) return rankOf(g, p.getInput(0), producers);
        if (ELEMENTWISE.contains(p.getOpType())) {
            int max = 0;
            for (String in : p.getInputList()) {
                Integer r = in.isEmpty() ? null : rankOf(g, in, producers);
                if (r == null) return null;
                max = Math.max(max, r);
            }
            return max;
        }
        return null;
    }

    /** Where a node computing from {@code v} can go: before its first reader (v is made before that). */
    private static int firstReader(ExportGraph g, String v) {
        for (int k = 0; k < g.nodes.size(); k++) if (g.nodes.get(k).getInputList().contains(v)) return k;
        return g.nodes.size();
    }

    private Plan reduce(ExportGraph g, NodeProto n, String src, String out, long[] p) {
        if (!onlyFirst(n, out)) return null;
        int rank = p.length;
        boolean axesInput = n.getInputCount() > 1 && !n.getInput(1).isEmpty();
        long[] axes;
        if (axesInput) {
            if (!g.isFoldableConstant(n.getInput(1))) return null;
            axes = ConvWeightLayoutPass.longs(g.initializers.get(n.getInput(1)));
        } else {
            axes = attrInts(n, "axes");
            if (axes == null) axes = new long[0];
        }
        boolean keep = attrInt(n, "keepdims", 1) != 0;
        if (axes.length == 0) {
            if (attrInt(n, "noop_with_empty_axes", 0) != 0) return through(g, n, withInput(n, 0, src), p);
            // Over every axis: the result (all ones, or a scalar) is the same whatever the layout.
            return new Plan(0, () -> g.nodes.set(g.nodes.indexOf(n), withInput(n, 0, src)));
        }
        long[] moved = new long[axes.length];
        long[] normalized = new long[axes.length];
        for (int i = 0; i < axes.length; i++) {
            normalized[i] = normalize(axes[i], rank);
            moved[i] = p[(int) normalized[i]];
        }
        Arrays.sort(moved);
        NodeProto.Builder b = withInput(n, 0, src).toBuilder();
        if (axesInput) {
            String name = fresh(n.getInput(1) + "_permuted");
            b.setInput(1, name);
            NodeProto rewritten = b.build();
            Plan plan = reduced(g, n, rewritten, p, normalized, keep);
            return new Plan(plan.added(), () -> {
                g.initializers.put(name, OnnxTensors.toProto(name, Nd4j.createFromArray(moved)));
                plan.apply().run();
            });
        }
        setInts(b, "axes", moved);
        return reduced(g, n, b.build(), p, normalized, keep);
    }

    /**
     * A reduction over {@code axes} (of T(a)) rewritten to reduce a: with keepdims the result is transposed
     * by {@code p}; without, by the order in which the remaining axes of a appear in T(a), and not at all when
     * that is their own order.
     */
    private Plan reduced(ExportGraph g, NodeProto n, NodeProto rewritten, long[] p, long[] axes, boolean keep) {
        if (keep) return through(g, n, rewritten, p);
        Set<Long> gone = new HashSet<>();
        for (long a : axes) gone.add(a);
        List<Long> remaining = new ArrayList<>(); // axes of a, in T(a)'s order
        for (int j = 0; j < p.length; j++) if (!gone.contains((long) j)) remaining.add(p[j]);
        List<Long> sorted = new ArrayList<>(remaining);
        sorted.sort(null);
        long[] q = new long[remaining.size()];
        for (int i = 0; i < q.length; i++) q[i] = sorted.indexOf(remaining.get(i));
        if (isIdentity(q)) {
            int rank = q.length;
            return new Plan(0, () -> {
                g.nodes.set(g.nodes.indexOf(n), rewritten);
                g.ranks.put(n.getOutput(0), rank);
            });
        }
        return through(g, n, rewritten, q);
    }

    /**
     * Pad: the pads (begins, then ends) permuted. Not with Pad-18's axes input (graft never writes it, and ONNX
     * Runtime 1.23 fails to load Pad with axes over a rank-4 input: "indices element out of data bounds").
     */
    private Plan pad(ExportGraph g, NodeProto n, String src, String out, long[] p) {
        if (!onlyFirst(n, out) || n.getInputCount() < 2 || !g.isFoldableConstant(n.getInput(1))) return null;
        if (n.getInputCount() > 3 && !n.getInput(3).isEmpty()) return null;
        int rank = p.length;
        long[] pads = ConvWeightLayoutPass.longs(g.initializers.get(n.getInput(1)));
        if (pads.length != 2 * rank) return null;
        long[] moved = new long[2 * rank];
        for (int i = 0; i < rank; i++) {
            moved[(int) p[i]] = pads[i];
            moved[rank + (int) p[i]] = pads[rank + i];
        }
        String name = fresh(n.getInput(1) + "_permuted");
        NodeProto.Builder b = withInput(n, 0, src).toBuilder().setInput(1, name);
        Plan plan = through(g, n, b.build(), p);
        return new Plan(plan.added(), () -> {
            g.initializers.put(name, OnnxTensors.toProto(name, Nd4j.createFromArray(moved)));
            plan.apply().run();
        });
    }

    /** Slice: the axes (given, or 0.. for each start) permuted. */
    private Plan slice(ExportGraph g, NodeProto n, String src, String out, long[] p) {
        if (!onlyFirst(n, out) || n.getInputCount() < 3 || !g.isFoldableConstant(n.getInput(1))) return null;
        int rank = p.length;
        long[] axes;
        if (n.getInputCount() > 3 && !n.getInput(3).isEmpty()) {
            if (!g.isFoldableConstant(n.getInput(3))) return null;
            axes = ConvWeightLayoutPass.longs(g.initializers.get(n.getInput(3)));
        } else {
            axes = java.util.stream.LongStream.range(0, ConvWeightLayoutPass.longs(g.initializers.get(n.getInput(1))).length).toArray();
        }
        long[] moved = new long[axes.length];
        for (int i = 0; i < axes.length; i++) moved[i] = p[(int) normalize(axes[i], rank)];
        String name = fresh("slice_axes_permuted");
        NodeProto.Builder b = withInput(n, 0, src).toBuilder();
        while (b.getInputCount() < 4) b.addInput("");
        b.setInput(3, name);
        Plan plan = through(g, n, b.build(), p);
        return new Plan(plan.added(), () -> {
            g.initializers.put(name, OnnxTensors.toProto(name, Nd4j.createFromArray(moved)));
            plan.apply().run();
        });
    }

    // ---------------------------------------------------------------- helpers

    private String fresh(String base) {
        String name = base;
        while (taken.contains(name)) name = base + "_" + (++counter);
        taken.add(name);
        return name;
    }

    private String constant(ExportGraph g, String base, INDArray value) {
        String name = fresh(base);
        g.initializers.put(name, OnnxTensors.toProto(name, value));
        return name;
    }

    /** True when {@code v} is read by input 0 of the node and by no other of its inputs. */
    private static boolean onlyFirst(NodeProto n, String v) {
        if (n.getInputCount() == 0 || !n.getInput(0).equals(v)) return false;
        for (int i = 1; i < n.getInputCount(); i++) if (n.getInput(i).equals(v)) return false;
        return true;
    }

    private static NodeProto withInput(NodeProto n, int i, String value) {
        return n.toBuilder().setInput(i, value).build();
    }

    static boolean isTranspose(NodeProto n) {
        return n.getOpType().equals("Transpose") && n.getDomain().isEmpty() && perm(n) != null;
    }

    static long[] perm(NodeProto n) {
        return ConvWeightLayoutPass.perm(n);
    }

    private static boolean isIdentity(long[] perm) {
        for (int i = 0; i < perm.length; i++) if (perm[i] != i) return false;
        return true;
    }

    private static long[] inverse(long[] p) {
        long[] inv = new long[p.length];
        for (int i = 0; i < p.length; i++) inv[(int) p[i]] = i;
        return inv;
    }

    private static long normalize(long axis, int rank) {
        return axis < 0 ? axis + rank : axis;
    }

    private static long attrInt(NodeProto n, String name, long fallback) {
        for (AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a.getI();
        return fallback;
    }

    private static long[] attrInts(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
        }
        return null;
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static AttributeProto intsAttr(String name, long[] v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    private static void setAttr(NodeProto.Builder b, String name, long v) {
        for (int i = 0; i < b.getAttributeCount(); i++) {
            if (b.getAttribute(i).getName().equals(name)) {
                b.setAttribute(i, intAttr(name, v));
                return;
            }
        }
        b.addAttribute(intAttr(name, v));
    }

    private static void setInts(NodeProto.Builder b, String name, long[] v) {
        for (int i = 0; i < b.getAttributeCount(); i++) {
            if (b.getAttribute(i).getName().equals(name)) {
                b.setAttribute(i, intsAttr(name, v));
                return;
            }
        }
        b.addAttribute(intsAttr(name, v));
    }
}
