package dev.graft.exec;

import dev.graft.GraftException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.BaseReduceOp;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.ReduceOp;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.ops.impl.transforms.same.Identity;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs a SameDiff graph without control flow as a fixed list of ops, reusing each op's output arrays from
 * one call to the next.
 *
 * <p>Why: SameDiff 1.0.0-M2.1's session works out the execution order anew on every call (dependency maps,
 * frames, iteration bookkeeping) and allocates a fresh native array for every op output. Measured on a
 * MobileNetV2 fine-tuning step (about 1,500 ops, forward and backward) with Java Flight Recorder and perf:
 * about a third of the step went to that scheduling, and a sixth to allocating, plus the kernel's zeroing
 * of the fresh pages. Here the order is computed once, and an op output keeps its array while its shape
 * and type stay the same. The ops themselves are the same ND4J kernels, called with the same arguments
 * as the session calls them (see InferenceSession.getAndParameterizeOp and doExec): without
 * {@link KernelShortcuts} the results are bit-identical to the session's (FixedGraphExecutorTest); the shortcuts
 * add some per-channel gradient sums in another order.
 *
 * <p>Graphs it does not take (loops and conditions, TensorArrays, sub-function calls, control
 * dependencies): {@link #compile} returns empty and the caller keeps using SameDiff's own session.
 *
 * <p>Arrays returned by {@link #run} are the caller's: requested outputs are never reused arrays. Not
 * thread-safe: one executor per thread, or calls serialised ({@link ExecutorCache} does that).
 */
public final class FixedGraphExecutor {

    private enum Kind { CUSTOM, IDENTITY, LEGACY }

    private record Step(Kind kind, SameDiffOp op, List<String> inputNames, DifferentialFunction fn, int[] in, int[] out,
                        DataType[] outTypes, boolean[] requested, OpContext context, KernelShortcuts.Shortcut shortcut,
                        INDArray[] scratch, Bound bound) {
    }

    /**
     * What a step's op context holds from the previous call: its inputs and outputs are set again only where
     * an array changed (most are the reused ones), and its output shapes are worked out again only when an
     * input's shape changed. Each setting is a native call, and the shape function allocates: with ~600 ops a
     * step that was several milliseconds and a stream of garbage for JavaCPP's deallocator.
     */
    private static final class Bound {
        INDArray[] inputs;
        long[][] inputShapes;
        List<LongShapeDescriptor> shapes;
        INDArray[] outputs;
    }

    /**
     * Ops whose output shapes follow from their input shapes and fixed arguments alone (no input holds a shape,
     * an axis or a count); for the others the shape function runs every call.
     */
    private static final Set<String> SHAPE_FROM_SHAPES = Set.of("conv2d", "conv2d_bp", "depthwise_conv2d",
            "depthwise_conv2d_bp", "conv1d", "conv1d_bp", "conv3dnew", "conv3dnew_bp", "deconv2d", "deconv2d_bp",
            "maxpool2d", "maxpool2d_bp", "avgpool2d", "avgpool2d_bp", "add", "add_bp", "subtract", "subtract_bp",
            "multiply", "multiply_bp", "divide", "divide_bp", "maximum", "minimum", "squaredsubtract", "relu6",
            "relu6_bp", "relu", "relu_bp", "sigmoid", "tanh", "softmax", "softmax_bp", "log_softmax", "matmul",
            "matmul_bp", "permute", "biasadd", "biasadd_bp", "layer_norm", "layer_norm_bp", "gelu", "precise_gelu");

    private final SameDiff graph;
    /** Ops that read only constants and fixed weights: run on the first call and after {@link #refreshFixed}. */
    private final List<Step> fixedSteps;
    private final List<Step> steps;
    /** The values the fixed steps computed, by slot; null until the first call. */
    private INDArray[] fixedValues;
    private final List<String> outputs;
    private final int[] outputSlots;
    /** Slot to variable name; slot kinds below. */
    private final String[] names;
    private final int[] placeholderSlots;
    private final DataType[] placeholderTypes;
    private final int[] storedSlots;
    private final INDArray[] values;
    /** Per op output slot: the array of the previous call, reused when shape and type match. */
    private final INDArray[] kept;
    /** Per slot: whether a later op or the caller reads it (a shortcut may leave an unread output out). */
    private final boolean[] read;
    /** Per slot: a weight or constant of the graph. */
    private final boolean[] stored;
    /** Arrays allocated during this call for requested outputs. */
    private final Set<INDArray> fresh = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Whether {@link KernelShortcuts} replace slow ND4J kernels (off: to compare against ND4J's own). */
    private boolean shortcuts = true;
    /** When set: op type -> {nanoseconds, calls}, summed over calls of {@link #run}. */
    private Map<String, long[]> timings;

    private FixedGraphExecutor(SameDiff graph, List<Step> fixedSteps, List<Step> steps, List<String> outputs, int[] outputSlots,
                               String[] names, int[] placeholderSlots, DataType[] placeholderTypes, int[] storedSlots) {
        this.graph = graph;
        this.fixedSteps = fixedSteps;
        this.steps = steps;
        this.outputs = outputs;
        this.outputSlots = outputSlots;
        this.names = names;
        this.placeholderSlots = placeholderSlots;
        this.placeholderTypes = placeholderTypes;
        this.storedSlots = storedSlots;
        this.values = new INDArray[names.length];
        this.kept = new INDArray[names.length];
        this.read = new boolean[names.length];
        for (Step s : fixedSteps) for (int i : s.in()) read[i] = true;
        for (Step s : steps) for (int i : s.in()) read[i] = true;
        for (int o : outputSlots) read[o] = true;
        this.stored = new boolean[names.length];
        for (int i : storedSlots) stored[i] = true;
    }

    /**
     * The ops {@code outputs} need, in execution order; empty when one of them is of a kind this executor
     * does not run (the reason is not an error: SameDiff's session runs such graphs).
     */
    public static Optional<FixedGraphExecutor> compile(SameDiff graph, Collection<String> outputs) {
        return compile(graph, outputs, Set.of());
    }

    /**
     * As {@link #compile(SameDiff, Collection)}, with weights the caller promises not to change between calls
     * (frozen ones) until it calls {@link #refreshFixed}: ops that read only those and constants run once.
     * In fine-tuning with frozen BatchNormalization that is each node's scale and shift, nine small ops a node.
     */
    public static Optional<FixedGraphExecutor> compile(SameDiff graph, Collection<String> outputs, Set<String> fixedWeights) {
        Map<String, Integer> slots = new LinkedHashMap<>();
        List<String> placeholders = new ArrayList<>();
        List<String> stored = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        Set<String> requested = new java.util.HashSet<>(outputs);
        Map<String, Boolean> visited = new HashMap<>(); // op name -> done (false while on the stack)
        for (String o : outputs) {
            if (!graph.hasVariable(o)) throw new GraftException("no tensor '" + o + "' in the graph");
        }
        // Iterative depth-first walk from the outputs back to placeholders and stored arrays (no recursion:
        // graphs of thousands of ops in a chain would overflow the stack).
        for (String o : outputs) {
            if (!add(graph, o, slots, placeholders, stored, steps, visited, requested)) return Optional.empty();
        }
        String[] names = new String[slots.size()];
        slots.forEach((n, i) -> names[i] = n);
        int[] outputSlots = outputs.stream().mapToInt(slots::get).toArray();
        DataType[] phTypes = placeholders.stream().map(p -> graph.getVariable(p).dataType()).toArray(DataType[]::new);
        boolean[] fixed = new boolean[names.length];
        for (String v : stored) {
            fixed[slots.get(v)] = graph.getVariable(v).getVariableType() == VariableType.CONSTANT || fixedWeights.contains(v);
        }
        List<Step> fixedSteps = new ArrayList<>();
        List<Step> perCall = new ArrayList<>();
        for (Step s : steps) {
            boolean f = true;
            for (int i : s.in()) f &= fixed[i];
            for (boolean r : s.requested()) f &= !r; // a requested output is handed out anew each call
            if (f) {
                for (int o : s.out()) fixed[o] = true;
                fixedSteps.add(s);
            } else {
                perCall.add(s);
            }
        }
        return Optional.of(new FixedGraphExecutor(graph, fixedSteps, perCall, List.copyOf(outputs), outputSlots, names,
                placeholders.stream().mapToInt(slots::get).toArray(), phTypes, stored.stream().mapToInt(slots::get).toArray()));
    }

    private static boolean add(SameDiff g, String start, Map<String, Integer> slots, List<String> placeholders, List<String> stored,
                               List<Step> steps, Map<String, Boolean> visited, Set<String> requested) {
        record Frame(String var, boolean expanded) {
        }
        java.util.ArrayDeque<Frame> stack = new java.util.ArrayDeque<>();
        stack.push(new Frame(start, false));
        while (!stack.isEmpty()) {
            Frame f = stack.pop();
            String var = f.var();
            SDVariable v = g.getVariable(var);
            if (v.getVariableType() != VariableType.ARRAY) {
                if (!slots.containsKey(var)) {
                    slots.put(var, slots.size());
                    if (v.getVariableType() == VariableType.PLACEHOLDER) placeholders.add(var);
                    else stored.add(var);
                }
                continue;
            }
            DifferentialFunction fn = g.getVariableOutputOp(var);
            if (fn == null) return false;
            String opName = fn.getOwnName();
            SameDiffOp op = g.getOps().get(opName);
            if (op == null) return false;
            Boolean state = visited.get(opName);
            if (state != null && (state || !f.expanded())) {
                if (!state) return false; // a cycle: not a plain graph
                continue;
            }
            if (!f.expanded()) {
                if (!supported(op)) return false;
                visited.put(opName, false);
                stack.push(new Frame(var, true));
                List<String> ins = op.getInputsToOp() == null ? List.of() : op.getInputsToOp();
                for (int i = ins.size() - 1; i >= 0; i--) stack.push(new Frame(ins.get(i), false));
                continue;
            }
            visited.put(opName, true);
            List<String> ins = op.getInputsToOp() == null ? List.of() : op.getInputsToOp();
            List<String> outs = op.getOutputsOfOp();
            int[] in = new int[ins.size()];
            for (int i = 0; i < in.length; i++) in[i] = slots.get(ins.get(i));
            int[] out = new int[outs.size()];
            DataType[] types = new DataType[outs.size()];
            boolean[] req = new boolean[outs.size()];
            for (int i = 0; i < out.length; i++) {
                String o = outs.get(i);
                slots.putIfAbsent(o, slots.size());
                out[i] = slots.get(o);
                types[i] = g.getVariable(o).dataType();
                req[i] = requested.contains(o);
            }
            Kind kind = fn instanceof Identity ? Kind.IDENTITY : fn instanceof CustomOp ? Kind.CUSTOM : Kind.LEGACY;
            if (kind == Kind.IDENTITY && in.length != 1) return false;
            steps.add(new Step(kind, op, List.copyOf(ins), fn, in, out, types, req, kind == Kind.IDENTITY ? null : Nd4j.getExecutioner().buildContext(),
                    kind == Kind.CUSTOM ? KernelShortcuts.forOp(fn.opName()) : null, new INDArray[2], new Bound()));
        }
        return true;
    }

    /** Plain ops only: what InferenceSession runs as "set inputs, allocate outputs, execute". */
    private static boolean supported(SameDiffOp op) {
        if (op.getControlDeps() != null && !op.getControlDeps().isEmpty()) return false;
        if (op.getVarControlDeps() != null && !op.getVarControlDeps().isEmpty()) return false;
        DifferentialFunction fn = op.getOp();
        String pkg = fn.getClass().getName();
        if (pkg.contains(".controlflow.") || pkg.contains(".shape.tensorops.") || pkg.endsWith(".Invoke")
                || pkg.endsWith(".CreateView") || pkg.endsWith(".Assign") || pkg.endsWith(".Assert")
                || pkg.endsWith(".ExternalErrorsFunction") || pkg.endsWith(".GradientBackwardsMarker")) {
            return false;
        }
        if (fn instanceof Identity) return true;
        if (fn instanceof CustomOp) return fn instanceof org.nd4j.linalg.api.ops.DynamicCustomOp;
        return fn instanceof Op;
    }

    public List<String> outputs() {
        return outputs;
    }

    /** The requested outputs for these placeholder values. */
    public Map<String, INDArray> run(Map<String, INDArray> feeds) {
        Arrays.fill(values, null);
        for (int k = 0; k < placeholderSlots.length; k++) {
            int slot = placeholderSlots[k];
            INDArray a = feeds.get(names[slot]);
            if (a == null) {
                throw new GraftException("no value for input '" + names[slot] + "' (given: " + feeds.keySet() + ")");
            }
            // As SameDiff's session: a value of another type is cast to the placeholder's.
            values[slot] = a.dataType() == placeholderTypes[k] ? a : a.castTo(placeholderTypes[k]);
        }
        for (int slot : storedSlots) {
            values[slot] = graph.getArrForVarName(names[slot]);
            if (values[slot] == null) throw new GraftException("the weight or constant '" + names[slot] + "' has no value");
        }
        if (fixedValues == null) {
            for (Step s : fixedSteps) execute(s);
            fixedValues = new INDArray[values.length];
            for (Step s : fixedSteps) for (int o : s.out()) fixedValues[o] = values[o];
        } else {
            for (int i = 0; i < values.length; i++) if (fixedValues[i] != null) values[i] = fixedValues[i];
        }
        if (timings == null) {
            for (Step s : steps) execute(s);
        } else {
            for (Step s : steps) {
                long t0 = System.nanoTime();
                execute(s);
                long[] t = timings.computeIfAbsent(s.fn().opName(), k -> new long[2]);
                t[0] += System.nanoTime() - t0;
                t[1]++;
            }
        }
        Map<String, INDArray> result = new LinkedHashMap<>();
        Set<INDArray> handedOut = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < outputSlots.length; i++) {
            INDArray a = values[outputSlots[i]];
            // Only arrays allocated for this output this call are the caller's as they are: an Identity, a view
            // or a shortcut's alias of an intermediate would be overwritten by the next call, a weight by
            // training, and two outputs must not share an array the caller may change in place.
            boolean own = a != null && fresh.contains(a) && handedOut.add(a);
            result.put(outputs.get(i), a == null || own ? a : a.dup());
        }
        fresh.clear();
        return result;
    }

    private void execute(Step s) {
        INDArray[] args = new INDArray[s.in().length];
        for (int i = 0; i < args.length; i++) args[i] = values[s.in()[i]];
        switch (s.kind()) {
            case IDENTITY -> values[s.out()[0]] = args[0];
            case CUSTOM -> {
                CustomOp op = (CustomOp) s.fn();
                OpContext oc = s.context();
                Bound b = s.bound();
                boolean sameShapes = bindInputs(oc, op, args, b);
                List<LongShapeDescriptor> shapes = sameShapes && b.shapes != null && SHAPE_FROM_SHAPES.contains(s.fn().opName())
                        ? b.shapes : op.calculateOutputShape(oc);
                b.shapes = shapes;
                if (shapes == null || shapes.size() != s.out().length) {
                    throw new GraftException("op '" + s.fn().getOwnName() + "' (" + s.fn().opName() + "): ND4J gave "
                            + (shapes == null ? 0 : shapes.size()) + " output shapes for " + s.out().length + " outputs");
                }
                if (s.shortcut() != null && shortcuts) {
                    long[][] outShapes = new long[shapes.size()][];
                    for (int i = 0; i < outShapes.length; i++) outShapes[i] = shapes.get(i).getShape();
                    INDArray[] done = s.shortcut().run(op, args, outShapes, s.outTypes(), new KernelShortcuts.Outputs() {
                        @Override
                        public INDArray get(int index, DataType type, long[] shape) {
                            return output(s, index, LongShapeDescriptor.fromShape(shape, type));
                        }

                        @Override
                        public boolean needed(int index) {
                            return read[s.out()[index]];
                        }

                        @Override
                        public boolean stored(int index) {
                            return stored[s.in()[index]];
                        }

                        @Override
                        public INDArray scratch(int index, DataType type, long[] shape) {
                            INDArray a = s.scratch()[index];
                            if (a == null || a.dataType() != type || !Arrays.equals(a.shape(), shape)) {
                                a = s.scratch()[index] = Nd4j.createUninitialized(type, shape);
                            }
                            return a;
                        }
                    });
                    if (done != null) {
                        for (int i = 0; i < done.length; i++) values[s.out()[i]] = done[i];
                        return;
                    }
                }
                if (b.outputs == null) b.outputs = new INDArray[shapes.size()];
                for (int i = 0; i < shapes.size(); i++) {
                    INDArray o = output(s, i, shapes.get(i));
                    if (o != b.outputs[i]) {
                        oc.setOutputArray(i, o);
                        b.outputs[i] = o;
                    }
                }
                Nd4j.exec(op, oc);
                for (int i = 0; i < s.out().length; i++) values[s.out()[i]] = oc.getOutputArray(i);
            }
            case LEGACY -> executeLegacy(s, args);
        }
    }

    /**
     * Sets the op's arguments on its context: all of them on the first call, afterwards only inputs whose
     * array changed. Returns whether every input has the shape and type it had on the previous call.
     */
    private static boolean bindInputs(OpContext oc, CustomOp op, INDArray[] args, Bound b) {
        boolean sameShapes = b.inputs != null;
        if (b.inputs == null) {
            oc.setArgs(args, op.iArgs(), op.dArgs(), op.tArgs(), op.bArgs());
            b.inputs = args.clone();
            b.inputShapes = new long[args.length][];
        } else {
            for (int i = 0; i < args.length; i++) {
                if (args[i] != b.inputs[i]) {
                    oc.setInputArray(i, args[i]);
                    sameShapes &= args[i].dataType() == b.inputs[i].dataType();
                    b.inputs[i] = args[i];
                }
            }
        }
        for (int i = 0; i < args.length; i++) {
            long[] shape = args[i].shape();
            sameShapes &= Arrays.equals(shape, b.inputShapes[i]);
            b.inputShapes[i] = shape;
        }
        return sameShapes;
    }

    /** Legacy (non-custom) ops, parameterised as InferenceSession does: an axis input, a scalar input. */
    private void executeLegacy(Step s, INDArray[] args) {
        Op op = (Op) s.fn();
        OpContext oc = s.context();
        boolean axisArg = false;
        boolean emptyReduce = false;
        if (op instanceof ReduceOp r && r.getOpType() != Op.Type.REDUCE3 && args.length == 2) {
            INDArray axes = args[1];
            if (!axes.isEmpty()) {
                s.fn().setDimensions(Shape.normalizeAxis(args[0].rank(), axes.toIntVector()));
                ((BaseReduceOp) op).setEmptyReduce(false);
            } else {
                s.fn().setDimensions(null);
                ((BaseReduceOp) op).setEmptyReduce(true);
                emptyReduce = true;
            }
            axisArg = true;
        } else if (op instanceof ScalarOp sc && args.length == 2) {
            sc.setScalar(args[1]);
        }
        if (args.length > 0) {
            oc.setInputArray(0, args[0]);
            if (args.length == 2 && !axisArg) oc.setInputArray(1, args[1]);
        }
        INDArray z;
        if (emptyReduce) {
            z = Nd4j.createUninitialized(args[0].dataType(), args[0].shape());
        } else {
            List<LongShapeDescriptor> shapes = ((org.nd4j.linalg.api.ops.BaseOp) op).calculateOutputShape(oc);
            if (shapes == null || shapes.size() != 1) {
                throw new GraftException("op '" + s.fn().getOwnName() + "' (" + s.fn().opName() + "): ND4J gave no output shape");
            }
            z = output(s, 0, shapes.get(0));
        }
        oc.setOutputArray(0, z);
        Nd4j.exec(op, oc);
        values[s.out()[0]] = oc.getOutputArray(0);
    }

    /** Output i of step s: last call's array when it fits and the caller does not keep it, else a new one. */
    private INDArray output(Step s, int i, LongShapeDescriptor shape) {
        DataType type = s.outTypes()[i];
        // Many ops accept several output types and the shape function cannot know which; as SameDiff's
        // session, the variable's declared type wins.
        LongShapeDescriptor wanted = shape.dataType() == type ? shape : shape.asDataType(type);
        int slot = s.out()[i];
        if (s.requested()[i] || wanted.isEmpty()) {
            INDArray a = Nd4j.create(wanted, false);
            if (s.requested()[i]) fresh.add(a);
            return a;
        }
        INDArray previous = kept[slot];
        if (previous != null && previous.dataType() == type && previous.ordering() == wanted.getOrder()
                && Arrays.equals(previous.shape(), wanted.getShape())) {
            return previous;
        }
        kept[slot] = Nd4j.create(wanted, false);
        return kept[slot];
    }

    /**
     * Times every op from now on: op type to {nanoseconds, calls}, added to {@code into}. Unlike a SameDiff
     * listener this costs two clock reads per op, so the profile keeps the proportions of an unprofiled run.
     */
    public void profileInto(Map<String, long[]> into) {
        this.timings = into;
    }

    /** The fixed weights changed (for example re-estimated BatchNormalization statistics): recompute what reads them. */
    public void refreshFixed() {
        fixedValues = null;
    }

    /** Runs every op with its own ND4J kernel, none of {@link KernelShortcuts}' replacements. */
    public FixedGraphExecutor withoutShortcuts() {
        this.shortcuts = false;
        return this;
    }

    /**
     * Whether this executor still runs {@code g} as it is: the same graph, every op still in it with the same
     * inputs. Surgery that cuts, adds or rewires ops makes it stale.
     */
    public boolean matches(SameDiff g) {
        if (g != graph) return false;
        Map<String, SameDiffOp> ops = g.getOps();
        for (List<Step> list : List.of(fixedSteps, steps)) {
            for (Step s : list) {
                SameDiffOp now = ops.get(s.fn().getOwnName());
                if (now != s.op() || now.getOp() != s.fn()) return false;
                List<String> ins = now.getInputsToOp() == null ? List.of() : now.getInputsToOp();
                if (!ins.equals(s.inputNames())) return false;
            }
        }
        return true;
    }

    /** Number of ops run per call (after the first). */
    public int size() {
        return steps.size();
    }
}
