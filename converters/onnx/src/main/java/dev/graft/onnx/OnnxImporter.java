package dev.graft.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.TensorInfo;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Imports an ONNX model into SameDiff. Order of work: read and validate the file, sort the nodes (reporting
 * cycles and dangling inputs), check that every op has a converter (reporting all that do not at once),
 * then create placeholders, weights and constants, and convert node by node.
 */
public final class OnnxImporter {

    /** Inputs that hold weights; a float Constant node feeding one of them becomes a trainable variable. */
    private static final Map<String, Set<Integer>> WEIGHT_SLOTS = Map.of(
            "Conv", Set.of(1, 2),
            "ConvTranspose", Set.of(1, 2),
            "Gemm", Set.of(1, 2),
            "MatMul", Set.of(1),
            "BatchNormalization", Set.of(1, 2),
            "InstanceNormalization", Set.of(1, 2),
            "LayerNormalization", Set.of(1, 2),
            "PRelu", Set.of(1));

    /** Ops whose output must not be computed once at import time even when all inputs are constant. */
    private static final Set<String> NOT_FOLDABLE = Set.of(
            "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial");

    private final ConverterRegistry registry;

    public OnnxImporter() {
        this(ConverterRegistry.standard());
    }

    public OnnxImporter(ConverterRegistry registry) {
        this.registry = registry;
    }

    public GraftModel importModel(Path file) {
        OnnxModelReader reader = OnnxModelReader.of(file);
        ModelProto model = reader.read();
        return importModel(model, reader);
    }

    public GraftModel importModel(ModelProto model, OnnxModelReader reader) {
        Path file = reader.file();
        GraphProto graph = model.getGraph();
        int opset = OnnxModelReader.defaultOpset(model);

        Set<String> initializerNames = new HashSet<>();
        for (TensorProto t : graph.getInitializerList()) {
            initializerNames.add(t.getName());
        }
        List<ValueInfoProto> realInputs = new ArrayList<>();
        for (ValueInfoProto in : graph.getInputList()) {
            if (!initializerNames.contains(in.getName())) {
                realInputs.add(in);
            }
        }

        List<Integer> order = topologicalOrder(graph, realInputs, initializerNames, file);
        checkSupported(model, graph, file);

        SameDiff sd = SameDiff.create();
        List<TensorInfo> inputInfos = new ArrayList<>();
        Map<String, Integer> probeA = new HashMap<>();
        Map<String, Integer> probeB = new HashMap<>();
        Map<String, INDArray> feedA = new LinkedHashMap<>();
        Map<String, INDArray> feedB = new LinkedHashMap<>();
        boolean anyDynamic = false;
        for (ValueInfoProto in : realInputs) {
            TensorInfo info = tensorInfo(in, file, "graph input '" + in.getName() + "'");
            if (info.shape() == null) {
                throw new GraftException(file + ": graph input '" + in.getName() + "' has no shape; graft needs at least its rank");
            }
            inputInfos.add(info);
            long[] a = info.shape();
            long[] b = info.shape();
            for (int d = 0; d < a.length; d++) {
                if (a[d] < 0) {
                    anyDynamic = true;
                    String symbol = info.dimNames().get(d);
                    String key = symbol == null || symbol.isEmpty() ? in.getName() + "#" + d : symbol;
                    int defaultA = d == 0 ? 2 : 24;
                    int defaultB = d == 0 ? 3 : 37;
                    a[d] = probeA.computeIfAbsent(key, k -> defaultA);
                    b[d] = probeB.computeIfAbsent(key, k -> defaultB);
                }
            }
            if (info.dataType().isIntType()) {
                anyDynamic = true; // the second run feeds other values, so value-dependent sizes show as dynamic
            }
            sd.placeHolder(in.getName(), info.dataType(), info.shape());
            feedA.put(in.getName(), probeArray(info.dataType(), a, 1));
            feedB.put(in.getName(), probeArray(info.dataType(), b, 2));
        }

        Map<String, OnnxNode> producers = new HashMap<>();
        for (int index : order) {
            NodeProto proto = graph.getNode(index);
            OnnxNode node = new OnnxNode(proto, OnnxModelReader.opsetFor(model, proto.getDomain()), index);
            for (String out : proto.getOutputList()) {
                if (!out.isEmpty()) producers.put(out, node);
            }
        }
        ShapeProber prober = new ShapeProber(registry, anyDynamic ? List.of(feedA, feedB) : List.of(feedA), producers);
        ImportContext ctx = new ImportContext(sd, opset, prober);
        prober.main = ctx;
        for (ValueInfoProto in : realInputs) {
            ctx.bindExisting(in.getName(), sd.getVariable(in.getName()));
        }
        for (TensorProto t : graph.getInitializerList()) {
            INDArray arr = reader.tensor(t, "initializer '" + t.getName() + "'");
            if (arr.dataType().isFPType()) {
                ctx.bindExisting(t.getName(), sd.var(t.getName(), arr));
            } else {
                ctx.bindExisting(t.getName(), sd.constant(t.getName(), arr));
                ctx.markStatic(t.getName());
            }
        }

        Set<String> trainableConstants = weightConstants(graph);
        Map<String, Integer> histogram = new TreeMap<>();
        Map<String, String> opOrigins = new HashMap<>();
        Map<OnnxNode, List<String>> opsByNode = new LinkedHashMap<>();
        for (int index : order) {
            NodeProto proto = graph.getNode(index);
            histogram.merge(proto.getOpType(), 1, Integer::sum);
            int nodeOpset = OnnxModelReader.opsetFor(model, proto.getDomain());
            OnnxNode node = new OnnxNode(proto, nodeOpset, index);
            if (proto.getOpType().equals("Constant") && proto.getOutputCount() == 1
                    && trainableConstants.contains(proto.getOutput(0))) {
                importWeightConstant(node, ctx, reader);
                continue;
            }
            if (isUntiedWeight(proto, ctx)) {
                // PyTorch's exporter stores weights that merely had equal values (zero biases, unit norm scales)
                // once and names the others through Identity nodes. They were independent in the source, so
                // each gets its own variable: fine-tuning must not tie them.
                String name = proto.getOutput(0);
                ctx.bindExisting(name, sd.var(name, ctx.value(proto.getInput(0)).getArr().dup()));
                continue;
            }
            NodeImporter importer = registry.importer(proto.getDomain(), proto.getOpType(), nodeOpset).orElseThrow();
            int before = sd.getOps().size();
            convert(node, importer, ctx);
            recordOrigins(sd, node, opOrigins);
            if (sd.getOps().size() > before) {
                opsByNode.put(node, new ArrayList<>(sd.getOps().keySet()).subList(before, sd.getOps().size()));
            }
        }

        List<TensorInfo> outputInfos = new ArrayList<>();
        for (ValueInfoProto out : graph.getOutputList()) {
            if (!ctx.has(out.getName())) {
                throw new GraftException(file + ": graph output '" + out.getName() + "' is not produced by any node");
            }
            SDVariable v = ctx.value(out.getName());
            if (!v.name().equals(out.getName())) {
                ctx.bind(out.getName(), v);
            }
            TensorInfo declared = tensorInfo(out, file, "graph output '" + out.getName() + "'");
            DataType type = declared.dataType() != null ? declared.dataType() : v.dataType();
            outputInfos.add(new TensorInfo(out.getName(), type, declared.shape(), declared.dimNames()));
        }
        String producer = (model.getProducerName() + " " + model.getProducerVersion()).trim();
        GraftModel.SourceInfo source = new GraftModel.SourceInfo(file, "onnx", opset, producer,
                graph.getNodeCount(), histogram);
        return new GraftModel(sd, inputInfos, outputInfos, source, opOrigins, sourceNodes(sd, ctx, opsByNode));
    }

    /**
     * Each converted node with the SameDiff ops made from it and their wiring as the import leaves them, so
     * that the exporter can tell whether they are still intact. Taken at the end because later nodes may
     * rename variables (an intermediate that took an ONNX name is moved aside).
     */
    private static List<GraftModel.SourceNode> sourceNodes(SameDiff sd, ImportContext ctx,
                                                           Map<OnnxNode, List<String>> opsByNode) {
        List<GraftModel.SourceNode> nodes = new ArrayList<>();
        for (Map.Entry<OnnxNode, List<String>> e : opsByNode.entrySet()) {
            OnnxNode node = e.getKey();
            NodeProto proto = node.proto();
            List<String> inputs = new ArrayList<>();
            for (String in : proto.getInputList()) {
                inputs.add(in.isEmpty() ? "" : ctx.value(in).name());
            }
            List<String> outputs = new ArrayList<>();
            for (String out : proto.getOutputList()) {
                outputs.add(out.isEmpty() || !ctx.has(out) ? "" : ctx.value(out).name());
            }
            Map<String, GraftModel.OpWiring> ops = new LinkedHashMap<>();
            for (String opName : e.getValue()) {
                var op = sd.getOps().get(opName);
                if (op == null) continue;
                ops.put(opName, new GraftModel.OpWiring(
                        op.getInputsToOp() == null ? List.of() : op.getInputsToOp(),
                        op.getOutputsOfOp() == null ? List.of() : op.getOutputsOfOp()));
            }
            nodes.add(new GraftModel.SourceNode(proto.getName(), proto.getOpType(),
                    ConverterRegistry.normalizeDomain(proto.getDomain()), node.opset(), proto.toByteArray(),
                    inputs, outputs, ops));
        }
        return nodes;
    }

    private void convert(OnnxNode node, NodeImporter importer, ImportContext ctx) {
        boolean foldable = !NOT_FOLDABLE.contains(node.opType()) && node.domain().isEmpty()
                && node.inputs().stream().filter(s -> !s.isEmpty()).allMatch(ctx::isStatic);
        try {
            if (foldable) {
                fold(node, importer, ctx);
            } else {
                importer.importNode(node, ctx);
            }
        } catch (GraftException e) {
            if (e.getMessage().startsWith(node.describe())) {
                throw e;
            }
            throw new GraftException(node.describe() + inputSummary(node, ctx) + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new GraftException(node.describe() + inputSummary(node, ctx) + ": conversion failed: " + e, e);
        }
        for (int i = 0; i < node.outputCount(); i++) {
            if (node.hasOutput(i) && !ctx.has(node.output(i))) {
                throw node.error("converter did not produce output " + i + " ('" + node.output(i) + "')");
            }
        }
    }

    /** Attributes the SameDiff ops created since the last call to {@code node}, for run-time error messages. */
    private static void recordOrigins(SameDiff sd, OnnxNode node, Map<String, String> origins) {
        for (String op : sd.getOps().keySet()) {
            origins.putIfAbsent(op, node.describe());
        }
    }

    /** Computes a node whose inputs are all constants once, in a scratch graph, and keeps only the result. */
    private static void fold(OnnxNode node, NodeImporter importer, ImportContext ctx) {
        NodeEvaluation.evaluate(node, importer, ctx.opset(), ctx::staticValue).forEach(ctx::bindConstant);
    }

    private static String inputSummary(OnnxNode node, ImportContext ctx) {
        StringBuilder sb = new StringBuilder(" with inputs [");
        for (int i = 0; i < node.inputCount(); i++) {
            if (i > 0) sb.append(", ");
            String in = node.input(i);
            if (in.isEmpty()) {
                sb.append("<omitted>");
                continue;
            }
            sb.append('\'').append(in).append('\'');
            try {
                sb.append(' ').append(java.util.Arrays.toString(ctx.shape(in)));
            } catch (RuntimeException ignored) {
                sb.append(" [?]");
            }
        }
        return sb.append(']').toString();
    }

    /** An Identity whose input is a weight (a float variable): it names a copy of that weight. */
    private static boolean isUntiedWeight(NodeProto proto, ImportContext ctx) {
        return proto.getOpType().equals("Identity") && proto.getInputCount() == 1 && proto.getOutputCount() == 1
                && ctx.has(proto.getInput(0))
                && ctx.value(proto.getInput(0)).getVariableType() == VariableType.VARIABLE;
    }

    private static void importWeightConstant(OnnxNode node, ImportContext ctx, OnnxModelReader reader) {
        TensorProto t = node.getTensor("value");
        if (t == null) {
            throw node.error("Constant feeding a weight slot has no 'value' tensor");
        }
        INDArray arr = reader.tensor(t, node.describe() + " attribute 'value'");
        String name = node.output(0);
        ctx.bindExisting(name, ctx.sd().var(name, arr));
    }

    /** Outputs of float Constant nodes that feed a weight slot (paddle2onnx stores weights this way). */
    private static Set<String> weightConstants(GraphProto graph) {
        Set<String> constantOutputs = new HashSet<>();
        for (NodeProto n : graph.getNodeList()) {
            if (n.getOpType().equals("Constant") && n.getOutputCount() == 1) {
                for (var a : n.getAttributeList()) {
                    if (a.getName().equals("value") && isFloat(a.getT().getDataType())) {
                        constantOutputs.add(n.getOutput(0));
                    }
                }
            }
        }
        Set<String> result = new HashSet<>();
        for (NodeProto n : graph.getNodeList()) {
            Set<Integer> slots = WEIGHT_SLOTS.get(n.getOpType());
            if (slots == null) continue;
            for (int slot : slots) {
                if (slot < n.getInputCount() && constantOutputs.contains(n.getInput(slot))) {
                    result.add(n.getInput(slot));
                }
            }
        }
        return result;
    }

    private static boolean isFloat(int onnxType) {
        return onnxType == TensorProto.DataType.FLOAT_VALUE || onnxType == TensorProto.DataType.DOUBLE_VALUE
                || onnxType == TensorProto.DataType.FLOAT16_VALUE || onnxType == TensorProto.DataType.BFLOAT16_VALUE;
    }

    /** Kahn's algorithm; reports dangling inputs and cycles by node name. */
    static List<Integer> topologicalOrder(GraphProto graph, List<ValueInfoProto> inputs, Set<String> initializers, Path file) {
        Set<String> available = new HashSet<>(initializers);
        for (ValueInfoProto in : inputs) available.add(in.getName());
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            for (String out : graph.getNode(i).getOutputList()) {
                if (out.isEmpty()) continue;
                Integer previous = producer.put(out, i);
                if (previous != null || available.contains(out)) {
                    throw new GraftException(file + ": value '" + out + "' is produced twice (node '"
                            + OnnxModelReader.nodeLabel(graph.getNode(i), i) + "'); ONNX graphs must be in SSA form");
                }
            }
        }
        int n = graph.getNodeCount();
        int[] pending = new int[n];
        Map<Integer, List<Integer>> consumers = new HashMap<>();
        for (int i = 0; i < n; i++) {
            NodeProto node = graph.getNode(i);
            Set<Integer> deps = new HashSet<>();
            for (String in : node.getInputList()) {
                if (in.isEmpty() || available.contains(in)) continue;
                Integer p = producer.get(in);
                if (p == null) {
                    throw new GraftException(file + ": Node '" + OnnxModelReader.nodeLabel(node, i) + "' ("
                            + node.getOpType() + "): input '" + in
                            + "' is not produced by any node, initializer or graph input (dangling input)");
                }
                deps.add(p);
            }
            pending[i] = deps.size();
            for (int p : deps) consumers.computeIfAbsent(p, k -> new ArrayList<>()).add(i);
        }
        Deque<Integer> ready = new ArrayDeque<>();
        for (int i = 0; i < n; i++) if (pending[i] == 0) ready.add(i);
        List<Integer> order = new ArrayList<>(n);
        while (!ready.isEmpty()) {
            int i = ready.poll();
            order.add(i);
            for (int c : consumers.getOrDefault(i, List.of())) {
                if (--pending[c] == 0) ready.add(c);
            }
        }
        if (order.size() < n) {
            List<String> stuck = new ArrayList<>();
            for (int i = 0; i < n && stuck.size() < 10; i++) {
                if (pending[i] > 0) stuck.add(OnnxModelReader.nodeLabel(graph.getNode(i), i) + " (" + graph.getNode(i).getOpType() + ")");
            }
            throw new GraftException(file + ": the graph has a cycle; nodes on or after it: " + stuck);
        }
        return order;
    }

    /** Scans the whole graph and reports every op without a converter in one error. */
    private void checkSupported(ModelProto model, GraphProto graph, Path file) {
        Map<String, List<String>> missing = new LinkedHashMap<>();
        Map<String, String> labels = new LinkedHashMap<>();
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto n = graph.getNode(i);
            int opset = OnnxModelReader.opsetFor(model, n.getDomain());
            if (registry.importer(n.getDomain(), n.getOpType(), opset).isEmpty()) {
                String domain = ConverterRegistry.normalizeDomain(n.getDomain());
                String key = (domain.isEmpty() ? "" : domain + ".") + n.getOpType();
                labels.putIfAbsent(key, "domain '" + (domain.isEmpty() ? "ai.onnx" : domain) + "', opset " + opset);
                missing.computeIfAbsent(key, k -> new ArrayList<>()).add(OnnxModelReader.nodeLabel(n, i));
            }
        }
        if (!missing.isEmpty()) {
            StringBuilder sb = new StringBuilder(file + ": " + missing.size() + " unsupported op type"
                    + (missing.size() > 1 ? "s" : "") + " (nothing was imported):");
            missing.forEach((op, nodes) -> sb.append("\n  ").append(op).append(" (").append(labels.get(op)).append("): ")
                    .append(nodes.size()).append(" node").append(nodes.size() > 1 ? "s" : "").append(", first '")
                    .append(nodes.get(0)).append("'"));
            throw new GraftException(sb.toString());
        }
    }

    static TensorInfo tensorInfo(ValueInfoProto v, Path file, String role) {
        TypeProto type = v.getType();
        if (!type.hasTensorType()) {
            throw new GraftException(file + ": " + role + " is not a tensor (" + type.getValueCase() + "); graft imports tensors only");
        }
        TypeProto.Tensor tt = type.getTensorType();
        DataType dt = tt.getElemType() == 0 ? null : OnnxTensors.toNd4j(tt.getElemType(), file + ": " + role);
        if (!tt.hasShape()) {
            return new TensorInfo(v.getName(), dt, null, null);
        }
        TensorShapeProto sp = tt.getShape();
        long[] shape = new long[sp.getDimCount()];
        List<String> names = new ArrayList<>();
        for (int i = 0; i < shape.length; i++) {
            TensorShapeProto.Dimension d = sp.getDim(i);
            if (d.hasDimValue() && d.getDimValue() >= 0) {
                shape[i] = d.getDimValue();
                names.add(null);
            } else if (d.hasDimValue()) {
                throw new GraftException(file + ": " + role + " has negative dimension " + d.getDimValue() + " at axis " + i);
            } else {
                shape[i] = -1;
                names.add(d.getDimParam());
            }
        }
        return new TensorInfo(v.getName(), dt, shape, names);
    }

    private static INDArray probeArray(DataType type, long[] shape, long seed) {
        if (java.util.Arrays.stream(shape).anyMatch(d -> d == 0)) {
            return Nd4j.create(type, shape); // zero-size input: nothing to fill
        }
        if (type.isFPType()) {
            Nd4j.getRandom().setSeed(seed);
            return Nd4j.rand(DataType.FLOAT, shape).addi(0.5).castTo(type);
        }
        if (type == DataType.BOOL) {
            return Nd4j.zeros(DataType.BOOL, shape);
        }
        // Integers are indices or counts more often than not: 0 in the first run and 1 in the second stay in
        // range for any axis of size 2 or more, and a size computed from their values differs between runs.
        return seed == 1 ? Nd4j.zeros(type, shape) : Nd4j.ones(type, shape);
    }
}
