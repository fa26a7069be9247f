package dev.graft;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model graft has imported: a {@link SameDiff} graph whose weights are trainable variables, with the
 * names, shapes and origin of its inputs and outputs. Surgery, training and export all work on this handle.
 */
public final class GraftModel {

    private final SameDiff sameDiff;
    private final List<TensorInfo> inputs;
    private final List<TensorInfo> outputs;
    private final SourceInfo source;
    private final Map<String, String> opOrigins;
    private final List<SourceNode> sourceNodes;
    private final List<dev.graft.surgery.Heads.AttachedHead> heads;
    private final dev.graft.train.Freeze freeze;
    /** What training did to the weights this handle (and the handles derived from it) share, or null. */
    private final java.util.concurrent.atomic.AtomicReference<String> trainingSummary;
    /** run's executors, one per set of requested tensors (rebuilt when surgery changed their ops). */
    private final dev.graft.exec.ExecutorCache executors = new dev.graft.exec.ExecutorCache();

    /** Where the graph came from: file, format ("onnx", ...), format version (opset) and producer. */
    public record SourceInfo(Path path, String format, int opset, String producer, long nodeCount,
                             Map<String, Integer> opHistogram) {
        public SourceInfo {
            opHistogram = Collections.unmodifiableMap(new LinkedHashMap<>(opHistogram));
        }
    }

    /**
     * One node of the source graph and the SameDiff ops made from it, as they stood when the import ended.
     * An exporter that finds these ops untouched can write the source node back as it was (with the current
     * weights) instead of one node per SameDiff op. {@code definition} is the node in the source format
     * (a serialized ONNX NodeProto); {@code inputs} and {@code outputs} are the SameDiff variables its inputs
     * and outputs became ("" for an omitted optional input); {@code ops} maps each op's name to its input and
     * output variable names.
     */
    public record SourceNode(String name, String opType, String domain, int opset, byte[] definition,
                             List<String> inputs, List<String> outputs, Map<String, OpWiring> ops) {
        public SourceNode {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
            ops = Collections.unmodifiableMap(new LinkedHashMap<>(ops));
        }
    }

    /** The variables an op read and wrote. */
    public record OpWiring(List<String> inputs, List<String> outputs) {
        public OpWiring {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
        }
    }

    public GraftModel(SameDiff sameDiff, List<TensorInfo> inputs, List<TensorInfo> outputs, SourceInfo source) {
        this(sameDiff, inputs, outputs, source, Map.of(), List.of());
    }

    /**
     * Wraps a SameDiff graph built by hand (or changed after import): its placeholders become the inputs (in
     * creation order, with their declared shapes, -1 for dynamic) and {@code outputNames} the outputs.
     */
    public static GraftModel of(SameDiff sameDiff, List<String> outputNames) {
        List<TensorInfo> ins = new ArrayList<>();
        for (SDVariable v : sameDiff.variables()) {
            if (v.getVariableType() == VariableType.PLACEHOLDER) {
                ins.add(new TensorInfo(v.name(), v.dataType(), v.placeholderShape(), null));
            }
        }
        List<TensorInfo> outs = new ArrayList<>();
        for (String name : outputNames) {
            if (!sameDiff.hasVariable(name)) {
                throw new GraftException("Unknown output '" + name + "': the graph has no such variable");
            }
            outs.add(new TensorInfo(name, sameDiff.getVariable(name).dataType(), null, null));
        }
        SourceInfo source = new SourceInfo(null, "samediff", 0, "SameDiff", sameDiff.getOps().size(), Map.of());
        return new GraftModel(sameDiff, ins, outs, source);
    }

    /**
     * {@code opOrigins} maps SameDiff op names to the source node each was made from (e.g. "Node 'conv1'
     * (Conv, opset 13)"), so that a failure at run time names the node of the user's model.
     */
    public GraftModel(SameDiff sameDiff, List<TensorInfo> inputs, List<TensorInfo> outputs, SourceInfo source,
                      Map<String, String> opOrigins, List<SourceNode> sourceNodes) {
        this(sameDiff, inputs, outputs, source, opOrigins, sourceNodes, List.of(), dev.graft.train.Freeze.all(),
                new java.util.concurrent.atomic.AtomicReference<>());
    }

    private GraftModel(SameDiff sameDiff, List<TensorInfo> inputs, List<TensorInfo> outputs, SourceInfo source,
                       Map<String, String> opOrigins, List<SourceNode> sourceNodes,
                       List<dev.graft.surgery.Heads.AttachedHead> heads, dev.graft.train.Freeze freeze,
                       java.util.concurrent.atomic.AtomicReference<String> trainingSummary) {
        this.sameDiff = sameDiff;
        this.sourceNodes = List.copyOf(sourceNodes);
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.source = source;
        this.opOrigins = Map.copyOf(opOrigins);
        this.heads = List.copyOf(heads);
        this.freeze = freeze;
        this.trainingSummary = trainingSummary;
    }

    // ---------------------------------------------------------------- surgery and training (fluent)

    /** Heads grafted onto the model, in the order they were attached. */
    public List<dev.graft.surgery.Heads.AttachedHead> heads() {
        return heads;
    }

    /** What training may change in the trunk (heads always train); default: nothing ({@code all} frozen). */
    public dev.graft.train.Freeze freezing() {
        return freeze;
    }

    public GraftModel withHeads(List<dev.graft.surgery.Heads.AttachedHead> newHeads) {
        return new GraftModel(sameDiff, inputs, outputs, source, opOrigins, sourceNodes, newHeads, freeze, trainingSummary);
    }

    /**
     * Keeps the graph up to the named tensors, which become the outputs; everything downstream that no kept
     * output needs (ops and their now-unused weights) is removed. {@code "auto"} alone picks the input of the
     * final classifier ({@link dev.graft.surgery.Surgery#autoCut}).
     */
    public GraftModel cut(String... tensors) {
        List<String> names = List.of(tensors);
        if (names.equals(List.of("auto"))) {
            names = List.of(dev.graft.surgery.Surgery.autoCut(this).tensor());
        }
        return dev.graft.surgery.Surgery.cut(this, names);
    }

    /** Grafts a new head (dense layers and an output) onto a tensor; its output is named after the head. */
    public GraftModel attachHead(dev.graft.surgery.HeadSpec spec) {
        return dev.graft.surgery.Heads.attach(this, spec);
    }

    /** Chooses what of the trunk trains (heads always do). */
    public GraftModel freeze(dev.graft.train.Freeze f) {
        return new GraftModel(sameDiff, inputs, outputs, source, opOrigins, sourceNodes, heads, f, trainingSummary);
    }

    /**
     * Forgets the trunk's training: every trunk weight gets a fresh seeded value (He-normal for weights,
     * zeros for biases, BatchNormalization back to scale 1, bias 0, mean 0, variance 1; see
     * {@link dev.graft.surgery.Reinitializer}); heads keep theirs. The same architecture then trains from
     * scratch. Changes the weights in place and returns this handle.
     */
    public GraftModel reinitialize(long seed) {
        dev.graft.surgery.Reinitializer.reinitialize(this, seed);
        return this;
    }

    /** Trains the heads (and the unfrozen trunk) on the data; the model's weights are updated in place. */
    public dev.graft.train.FitResult fit(dev.graft.data.Dataset train, dev.graft.train.TrainSettings settings) {
        dev.graft.train.FitResult r = new dev.graft.train.FineTuner(this, settings).fit(train);
        trainingSummary.set(r.summaryJson(heads.stream().map(h -> h.spec().name()).toList(), train.size()));
        return r;
    }

    /** A JSON summary of the last training of these weights (written into exports as graft.training), or null. */
    public String trainingSummary() {
        return trainingSummary.get();
    }

    /** Op names in ND4J's failure messages: "Op with name X and op type [..]" or "Op conv2d with name X failed". */
    private static final java.util.regex.Pattern FAILED_OP =
            java.util.regex.Pattern.compile("Op (?:with name (\\S+) and op type|\\S+ with name (\\S+) failed)");

    /** The source node behind an ND4J execution failure, or null when the message names no op graft made. */
    private String originOf(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() == null) continue;
            java.util.regex.Matcher m = FAILED_OP.matcher(t.getMessage());
            if (m.find()) {
                String op = m.group(1) != null ? m.group(1) : m.group(2);
                return opOrigins.get(op);
            }
        }
        return null;
    }

    /**
     * The same graph (shared, not copied) with other outputs: model outputs keep their description, other
     * tensors (an inner tensor to cut at, a head added to the SameDiff graph) become outputs by name. The
     * source nodes stay known, so an export still writes the untouched part back as it was.
     */
    public GraftModel withOutputs(List<String> outputNames) {
        List<TensorInfo> outs = new ArrayList<>();
        for (String name : outputNames) {
            if (!sameDiff.hasVariable(name)) {
                throw new GraftException("Unknown output '" + name + "': the graph has no such tensor (outputs are "
                        + outputNames() + "; 'graft inspect' lists the model)");
            }
            TensorInfo known = outputs.stream().filter(o -> o.name().equals(name)).findFirst().orElse(null);
            outs.add(known != null ? known : new TensorInfo(name, sameDiff.getVariable(name).dataType(), null, null));
        }
        return new GraftModel(sameDiff, inputs, outs, source, opOrigins, sourceNodes, heads, freeze, trainingSummary);
    }

    public SameDiff sameDiff() {
        return sameDiff;
    }

    public List<TensorInfo> inputs() {
        return inputs;
    }

    public List<TensorInfo> outputs() {
        return outputs;
    }

    public List<String> inputNames() {
        return inputs.stream().map(TensorInfo::name).toList();
    }

    public List<String> outputNames() {
        return outputs.stream().map(TensorInfo::name).toList();
    }

    public SourceInfo source() {
        return source;
    }

    /** The source graph's nodes with the SameDiff ops made from each (empty for a graph built by hand). */
    public List<SourceNode> sourceNodes() {
        return sourceNodes;
    }

    /**
     * Exports the model to ONNX at the default opset (17), written atomically; the model's outputs become
     * the ONNX outputs. See {@link dev.graft.onnx.export.OnnxExporter} for opsets, output selection, metadata.
     */
    public dev.graft.onnx.export.OnnxExporter.Result exportOnnx(Path file) {
        return exportOnnx(file, dev.graft.onnx.export.OnnxExporter.Options.defaults());
    }

    public dev.graft.onnx.export.OnnxExporter.Result exportOnnx(Path file, dev.graft.onnx.export.OnnxExporter.Options options) {
        return new dev.graft.onnx.export.OnnxExporter().write(this, file, options);
    }

    /** The source node a SameDiff op was made from, e.g. "Node 'conv1' (Conv, opset 13)", or null. */
    public String originOf(String opName) {
        return opOrigins.get(opName);
    }

    /** Names of the trainable variables (the model's weights), sorted by name (SameDiff keeps them in a trie). */
    public List<String> parameterNames() {
        List<String> names = new ArrayList<>();
        for (SDVariable v : sameDiff.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                names.add(v.name());
            }
        }
        return names;
    }

    public long parameterCount() {
        long count = 0;
        for (SDVariable v : sameDiff.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE && v.getArr() != null) {
                count += v.getArr().length();
            }
        }
        return count;
    }

    /** A fed array must have the input's element type, rank and every fixed dimension (native ops would crash). */
    private static void checkFits(TensorInfo in, INDArray value) {
        if (in.dataType() != null && value.dataType() != in.dataType()) {
            throw new GraftException("Input '" + in.name() + "' is " + value.dataType() + ", the model expects "
                    + in.dataType() + " " + in.shapeText());
        }
        long[] expected = in.shape();
        if (expected == null) {
            return;
        }
        if (value.isEmpty() && java.util.Arrays.stream(expected).anyMatch(d -> d <= 0)) {
            return; // ND4J's empty arrays do not always keep their rank
        }
        if (!in.accepts(value.shape())) {
            throw new GraftException("Input '" + in.name() + "' has shape " + java.util.Arrays.toString(value.shape())
                    + ", the model expects " + in.shapeText());
        }
    }

    /**
     * Runs the graph. {@code feeds} maps input names to arrays; {@code requested} names any tensors of the
     * graph (the model outputs when empty). Unknown names are reported with the list of valid ones.
     */
    public Map<String, INDArray> run(Map<String, INDArray> feeds, List<String> requested) {
        for (String name : feeds.keySet()) {
            if (!inputNames().contains(name)) {
                throw new GraftException("Unknown input name '" + name + "', expected one of " + inputNames());
            }
        }
        for (TensorInfo in : inputs) {
            INDArray value = feeds.get(in.name());
            if (value == null) {
                throw new GraftException("Missing input '" + in.name() + "', the model needs " + inputNames());
            }
            checkFits(in, value);
        }
        List<String> names = requested == null || requested.isEmpty() ? outputNames() : requested;
        for (String name : names) {
            if (!sameDiff.hasVariable(name)) {
                throw new GraftException("Unknown tensor name '" + name + "': it is not in the graph (outputs are "
                        + outputNames() + "; 'graft inspect' lists the model)");
            }
        }
        Map<String, INDArray> result;
        try {
            Map<String, INDArray> inputs = contiguous(feeds);
            result = executors.run(sameDiff, inputs, names);
            if (result == null) result = sameDiff.output(inputs, names); // control flow: SameDiff's session
        } catch (RuntimeException e) {
            String origin = originOf(e);
            if (origin == null) {
                throw e;
            }
            StringBuilder shapes = new StringBuilder();
            feeds.forEach((k, v) -> shapes.append(shapes.length() == 0 ? "" : ", ").append(k).append(' ')
                    .append(java.util.Arrays.toString(v.shape())));
            throw new GraftException(origin + " failed at run time on inputs " + shapes + ": " + e.getMessage()
                    + " (the model's shapes do not fit together, or the inputs do not fit the model)", e);
        }
        Map<String, INDArray> ordered = new LinkedHashMap<>();
        for (String name : names) {
            ordered.put(name, result.get(name));
        }
        return ordered;
    }

    /**
     * Views (a row slice with a step, a transposed array) are copied into fresh row-major arrays before they reach
     * libnd4j: its NHWC conv2d in ND4J 1.0.0-M2.1 reads a strided input as if it were dense and computes wrong
     * numbers without any error (StridedInputTest shows it on a TensorFlow CNN). A copy is cheap next to a run.
     */
    private static Map<String, INDArray> contiguous(Map<String, INDArray> feeds) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        feeds.forEach((name, v) -> out.put(name, v.isView() || v.ordering() != 'c' ? v.dup('c') : v));
        return out;
    }
}
