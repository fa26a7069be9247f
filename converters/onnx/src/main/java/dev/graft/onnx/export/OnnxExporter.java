package dev.graft.onnx.export;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.graft.Graft;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.TensorInfo;
import dev.graft.io.AtomicFiles;
import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.OnnxOpVersions;
import dev.graft.onnx.OnnxTensors;
import dev.graft.onnx.OpExporter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Writes a graft model (imported, changed, or a SameDiff graph built by hand) as an ONNX model.
 *
 * <p>Each SameDiff op is written by the export half of its op family (see {@link ConverterRegistry}). An
 * imported node whose SameDiff ops are still as the import left them, and whose ONNX schema is the same at
 * the target opset, is written back as the source node itself (with the current weights): the exported
 * model then has the source's structure and speed, and only new or changed parts are spelled out op by op.
 * Passes then remove identities, store convolution weights in ONNX's layout, push transposes (channels-last
 * graphs: TensorFlow's) through the graph until they cancel, and remove constant-only nodes and dead nodes.
 *
 * <p>Nothing is written unless every needed op can be exported; the error lists all that cannot.
 */
public final class OnnxExporter {

    public static final int DEFAULT_OPSET = 17;
    public static final int MIN_OPSET = 13;
    public static final int MAX_OPSET = 21;
    /** protobuf cannot serialise a message of 2 GiB or more; a margin leaves room for the graph itself. */
    static final long PROTOBUF_LIMIT = (2L << 30) - (16L << 20);

    /**
     * @param opset          ONNX opset of the default domain to write (13 to 21)
     * @param outputs        graph values to export as outputs; empty: the model's outputs
     * @param useSourceNodes write intact imported nodes back as they were (false: every op is spelled out
     *                       by the op exporters, which is how the conformance round trip tests them)
     * @param metadata       extra metadata_props (e.g. a training summary)
     */
    public record Options(int opset, List<String> outputs, boolean useSourceNodes, Map<String, String> metadata,
                          long sizeLimit, Map<String, INDArray> probeInputs) {
        public Options {
            outputs = List.copyOf(outputs);
            metadata = Map.copyOf(metadata);
            probeInputs = Map.copyOf(probeInputs);
        }

        public static Options defaults() {
            return new Options(DEFAULT_OPSET, List.of(), true, Map.of(), PROTOBUF_LIMIT, Map.of());
        }

        public Options withOpset(int v) {
            return new Options(v, outputs, useSourceNodes, metadata, sizeLimit, probeInputs);
        }

        public Options withOutputs(List<String> v) {
            return new Options(opset, v, useSourceNodes, metadata, sizeLimit, probeInputs);
        }

        public Options withSourceNodes(boolean v) {
            return new Options(opset, outputs, v, metadata, sizeLimit, probeInputs);
        }

        public Options withMetadata(Map<String, String> v) {
            return new Options(opset, outputs, useSourceNodes, v, sizeLimit, probeInputs);
        }

        /**
         * Real inputs to run the graph on once, to learn the ranks of its values (default: inputs made up
         * from the declared shapes, dynamic sizes 2 and 5, floats 0.5, integers 1).
         */
        public Options withProbeInputs(Map<String, INDArray> v) {
            return new Options(opset, outputs, useSourceNodes, metadata, sizeLimit, v);
        }

        Options withSizeLimit(long v) {
            return new Options(opset, outputs, useSourceNodes, metadata, v, probeInputs);
        }
    }

    /** What an export made: the model and how many of its nodes came back as source nodes. */
    public record Result(ModelProto model, int sourceNodesKept, int opsSpelledOut) {
    }

    private final ConverterRegistry registry;

    public OnnxExporter() {
        this(ConverterRegistry.standard());
    }

    public OnnxExporter(ConverterRegistry registry) {
        this.registry = registry;
    }

    /** Exports and writes atomically: on any failure no file is created and an existing one is untouched. */
    public Result write(GraftModel model, Path file, Options options) {
        Result result = export(model, options);
        AtomicFiles.write(file, result.model().toByteArray());
        return result;
    }

    public Result export(GraftModel model, Options options) {
        if (options.opset() < MIN_OPSET || options.opset() > MAX_OPSET) {
            throw new GraftException("opset " + options.opset() + " is not supported for export; choose "
                    + MIN_OPSET + " to " + MAX_OPSET + " (default " + DEFAULT_OPSET + ")");
        }
        SameDiff sd = model.sameDiff();
        List<String> outputs = options.outputs().isEmpty() ? model.outputNames() : options.outputs();
        for (String out : outputs) {
            if (!sd.hasVariable(out)) {
                throw new GraftException("Unknown output '" + out + "': the graph has no such tensor ('graft inspect' "
                        + "lists the model; its outputs are " + model.outputNames() + ")");
            }
        }
        List<SameDiffOp> needed = neededOps(sd, outputs);
        Map<String, GraftModel.SourceNode> keptNodes = options.useSourceNodes()
                ? intactSourceNodes(model, needed, outputs, options.opset(), registry) : Map.of();

        List<SameDiffOp> spelledOut = new ArrayList<>();
        for (SameDiffOp op : needed) {
            if (!keptNodes.containsKey(op.getName())) spelledOut.add(op);
        }
        checkExportable(model, spelledOut);

        // ONNX's checker wants every graph output to have a shape (its rank at least); outputs the model does
        // not describe (new heads, inner tensors) get their rank from the probe run.
        boolean outputsNeedRank = outputs.stream().anyMatch(o -> model.outputs().stream()
                .noneMatch(t -> t.name().equals(o) && t.shape() != null));
        Map<String, INDArray> probe = spelledOut.isEmpty() && !outputsNeedRank ? Map.of()
                : probe(model, spelledOut, outputs, options.probeInputs());
        ExportContext ctx = new ExportContext(sd, options.opset(), probe::get, model::originOf);
        Set<GraftModel.SourceNode> written = new HashSet<>();
        for (SameDiffOp op : needed) {
            GraftModel.SourceNode source = keptNodes.get(op.getName());
            if (source != null) {
                if (written.add(source)) ctx.add(sourceNodeAsWritten(source));
                continue;
            }
            OpExporter exporter = registry.exporter(op.getOp().opName()).orElseThrow();
            try {
                exporter.exportOp(op, ctx);
            } catch (GraftException e) {
                throw e.getMessage().startsWith("SameDiff op") ? e : ctx.error(op, e.getMessage());
            } catch (RuntimeException e) {
                throw new GraftException(ctx.describe(op) + ": export failed: " + e, e);
            }
        }

        ExportGraph g = new ExportGraph();
        g.nodes.addAll(ctx.nodes());
        g.initializers.putAll(ctx.constants());
        Set<String> referenced = new HashSet<>(outputs);
        ctx.nodes().forEach(n -> referenced.addAll(n.getInputList()));
        for (String name : referenced) {
            if (name.isEmpty() || !sd.hasVariable(name)) continue;
            SDVariable v = sd.getVariable(name);
            if (v.getVariableType() == VariableType.VARIABLE || v.getVariableType() == VariableType.CONSTANT) {
                g.initializers.put(name, OnnxTensors.toProto(name, v.getArr()));
                if (v.getVariableType() == VariableType.VARIABLE) g.weights.add(name);
            } else if (v.getVariableType() == VariableType.PLACEHOLDER) {
                g.inputs.add(inputInfo(model, v));
            }
        }
        // The model's inputs stay its interface even where the export no longer reads one (an output the
        // importer computed once, a branch cut away): callers feed what they fed before.
        for (TensorInfo in : model.inputs()) {
            if (sd.hasVariable(in.name()) && g.inputs.stream().noneMatch(v -> v.getName().equals(in.name()))) {
                g.inputs.add(inputInfo(model, sd.getVariable(in.name())));
            }
        }
        g.inputs.sort(java.util.Comparator.comparingInt(vi -> inputOrder(model, vi.getName())));
        // An output whose value is known (an initializer) gets a node making it, as ONNX outputs are node outputs.
        for (String out : outputs) {
            TensorProto value = g.initializers.remove(out);
            if (value == null) continue;
            String stored = ctx.fresh(out + "_value");
            g.initializers.put(stored, value.toBuilder().setName(stored).build());
            if (g.weights.remove(out)) g.weights.add(stored);
            g.nodes.add(NodeProto.newBuilder().setOpType("Identity").setName(ctx.fresh("Identity_" + out))
                    .addInput(stored).addOutput(out).build());
        }
        for (String out : outputs) {
            g.outputs.add(outputInfo(model, sd.getVariable(out), probe));
        }
        probe.forEach((name, value) -> g.ranks.put(name, value.rank()));
        // Transpose pairs first (the importer's weight permutes and the exporter's cancel), then what is left
        // of convolution weights is stored in ONNX's layout, then data transposes are pushed until they meet.
        for (ExportPass pass : List.of(new IdentityRemovalPass(), new TransposePairPass(), new ConvWeightLayoutPass(),
                new TransposePushPass(), new TransposePairPass(),
                new ConstantFoldingPass(options.opset()), new DeadNodePass(), new TopologicalSortPass())) {
            pass.run(g);
        }
        checkSize(g, options.sizeLimit());
        return new Result(buildModel(model, g, options), written.size(), spelledOut.size());
    }

    /**
     * SameDiff op types the model's needed ops use that no exporter handles and that are not covered by
     * intact source nodes, as "type (count, first op 'x' made from Node ...)": empty when the model exports.
     */
    public List<String> exportBlockers(GraftModel model, List<String> outputs, boolean useSourceNodes) {
        List<String> outs = outputs == null || outputs.isEmpty() ? model.outputNames() : outputs;
        List<SameDiffOp> needed = neededOps(model.sameDiff(), outs);
        Map<String, GraftModel.SourceNode> kept = useSourceNodes
                ? intactSourceNodes(model, needed, outs, DEFAULT_OPSET, registry) : Map.of();
        List<SameDiffOp> rest = needed.stream().filter(op -> !kept.containsKey(op.getName())).toList();
        return missingExporters(model, rest);
    }

    /** How many source nodes the default export writes back as they were (at the default opset). */
    public int writableSourceNodes(GraftModel model) {
        List<SameDiffOp> needed = neededOps(model.sameDiff(), model.outputNames());
        return new HashSet<>(intactSourceNodes(model, needed, model.outputNames(), DEFAULT_OPSET, registry).values()).size();
    }

    private List<String> missingExporters(GraftModel model, List<SameDiffOp> ops) {
        Map<String, List<SameDiffOp>> missing = new TreeMap<>();
        for (SameDiffOp op : ops) {
            String type = op.getOp().opName();
            if (registry.exporter(type).isEmpty()) missing.computeIfAbsent(type, k -> new ArrayList<>()).add(op);
        }
        List<String> lines = new ArrayList<>();
        missing.forEach((type, list) -> {
            String origin = model.originOf(list.get(0).getName());
            lines.add(type + " (" + list.size() + (list.size() == 1 ? " op" : " ops") + ", first '" + list.get(0).getName()
                    + "'" + (origin == null ? "" : " made from " + origin) + ")");
        });
        return lines;
    }

    private void checkExportable(GraftModel model, List<SameDiffOp> ops) {
        List<String> missing = missingExporters(model, ops);
        if (!missing.isEmpty()) {
            throw new GraftException("Cannot export to ONNX: " + missing.size() + " SameDiff op type"
                    + (missing.size() == 1 ? " has" : "s have") + " no ONNX exporter, so no file was written:\n  "
                    + String.join("\n  ", missing));
        }
    }

    /** The ops the outputs depend on, in an order where each comes after the producers of its inputs. */
    static List<SameDiffOp> neededOps(SameDiff sd, List<String> outputs) {
        Map<String, SameDiffOp> producer = new HashMap<>();
        for (SameDiffOp op : sd.getOps().values()) {
            for (String o : op.getOutputsOfOp()) producer.put(o, op);
        }
        Set<String> live = new HashSet<>();
        Deque<String> work = new ArrayDeque<>(outputs);
        Set<String> seen = new HashSet<>();
        while (!work.isEmpty()) {
            String v = work.pop();
            if (!seen.add(v)) continue;
            SameDiffOp p = producer.get(v);
            if (p != null && live.add(p.getName()) && p.getInputsToOp() != null) {
                work.addAll(p.getInputsToOp());
            }
        }
        // Creation order is a valid order for graphs built through the SameDiff API; sort anyway, surgery may
        // have rewired ops.
        List<SameDiffOp> pending = new ArrayList<>();
        for (SameDiffOp op : sd.getOps().values()) if (live.contains(op.getName())) pending.add(op);
        List<SameDiffOp> sorted = new ArrayList<>();
        Set<String> done = new HashSet<>();
        while (!pending.isEmpty()) {
            boolean progress = false;
            for (int k = 0; k < pending.size(); k++) {
                SameDiffOp op = pending.get(k);
                boolean ready = op.getInputsToOp() == null || op.getInputsToOp().stream()
                        .allMatch(i -> !producer.containsKey(i) || done.contains(i));
                if (ready) {
                    sorted.add(op);
                    done.addAll(op.getOutputsOfOp());
                    pending.remove(k--);
                    progress = true;
                }
            }
            if (!progress) throw new GraftException("The graph has a cycle through op '" + pending.get(0).getName() + "'");
        }
        return sorted;
    }

    /**
     * Source nodes that can be written back as they were, by the names of their SameDiff ops: every op made
     * from the node is still there with the same wiring, no value internal to the node is read from outside
     * it, and the node means the same at the target opset: ONNX's schema is the same or only widened its
     * types (see {@link OnnxOpVersions#writableAt}).
     */
    static Map<String, GraftModel.SourceNode> intactSourceNodes(GraftModel model, List<SameDiffOp> needed,
                                                                List<String> outputs, int opset, ConverterRegistry registry) {
        SameDiff sd = model.sameDiff();
        Set<String> neededNames = new HashSet<>();
        needed.forEach(op -> neededNames.add(op.getName()));
        Map<String, Set<String>> readers = new HashMap<>();
        for (SameDiffOp op : sd.getOps().values()) {
            if (op.getInputsToOp() == null) continue;
            for (String in : op.getInputsToOp()) readers.computeIfAbsent(in, k -> new HashSet<>()).add(op.getName());
        }
        Map<String, GraftModel.SourceNode> kept = new HashMap<>();
        for (GraftModel.SourceNode node : model.sourceNodes()) {
            if (!node.domain().isEmpty() || !OnnxOpVersions.writableAt(node.opType(), node.opset(), opset,
                    (int) node.outputs().stream().filter(o -> !o.isEmpty()).count())) continue;
            if (node.ops().keySet().stream().noneMatch(neededNames::contains)) continue;
            boolean intact = true;
            Set<String> internal = new HashSet<>();
            for (Map.Entry<String, GraftModel.OpWiring> e : node.ops().entrySet()) {
                SameDiffOp op = sd.getOps().get(e.getKey());
                if (op == null
                        || !e.getValue().inputs().equals(op.getInputsToOp() == null ? List.of() : op.getInputsToOp())
                        || !e.getValue().outputs().equals(op.getOutputsOfOp())) {
                    intact = false;
                    break;
                }
                internal.addAll(op.getOutputsOfOp());
            }
            if (!intact) continue;
            node.outputs().forEach(internal::remove);
            for (String v : internal) {
                if (outputs.contains(v)) intact = false;
                for (String reader : readers.getOrDefault(v, Set.of())) {
                    if (!node.ops().containsKey(reader)) intact = false;
                }
            }
            for (String out : node.outputs()) {
                if (!out.isEmpty() && !sd.hasVariable(out)) intact = false;
            }
            if (!intact) continue;
            for (String opName : node.ops().keySet()) kept.put(opName, node);
        }
        return kept;
    }

    private static NodeProto sourceNodeAsWritten(GraftModel.SourceNode node) {
        NodeProto proto;
        try {
            proto = NodeProto.parseFrom(node.definition());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException("stored source node '" + node.name() + "' does not parse", e);
        }
        NodeProto.Builder b = proto.toBuilder().clearInput().clearOutput().setDomain("");
        b.addAllInput(node.inputs()).addAllOutput(node.outputs());
        return b.build();
    }

    /**
     * Runs the graph once on a probe input (given, or made up: dynamic sizes 2 for the first axis and 5
     * elsewhere, floats 0.5, integers 1 so that no integer division by zero can bring the JVM down) and
     * keeps every value the spelled-out ops read or write: their ranks and element types guide the
     * exporters. The sizes are arbitrary; exporters must not bake them in.
     */
    private static Map<String, INDArray> probe(GraftModel model, List<SameDiffOp> ops, List<String> outputs,
                                               Map<String, INDArray> given) {
        SameDiff sd = model.sameDiff();
        Map<String, INDArray> feeds = new LinkedHashMap<>();
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() != VariableType.PLACEHOLDER) continue;
            if (given.containsKey(v.name())) {
                feeds.put(v.name(), given.get(v.name()));
                continue;
            }
            long[] shape = shapeOf(model, v);
            if (shape == null) continue;
            long[] concrete = shape.clone();
            for (int d = 0; d < concrete.length; d++) if (concrete[d] < 0) concrete[d] = d == 0 ? 2 : 5;
            INDArray ones = Nd4j.ones(v.dataType(), concrete);
            feeds.put(v.name(), v.dataType().isFPType() ? ones.muli(0.5) : ones);
        }
        Set<String> names = new LinkedHashSet<>();
        for (SameDiffOp op : ops) {
            for (String in : op.getInputsToOp() == null ? List.<String>of() : op.getInputsToOp()) {
                if (sd.getVariable(in).getVariableType() == VariableType.ARRAY) names.add(in);
            }
            names.addAll(op.getOutputsOfOp());
        }
        for (String o : outputs) {
            if (sd.getVariable(o).getVariableType() == VariableType.ARRAY) names.add(o);
        }
        if (names.isEmpty()) {
            return new HashMap<>(feeds); // nothing to compute (an output the import already knew the value of)
        }
        // Only values reachable from the fed placeholders can be computed.
        try {
            Map<String, INDArray> out = new HashMap<>(sd.output(feeds, new ArrayList<>(names)));
            for (String f : feeds.keySet()) out.put(f, feeds.get(f));
            return out;
        } catch (RuntimeException e) {
            throw new GraftException("Cannot export: running the graph once on a probe input (to learn the ranks "
                    + "of its values) failed: " + e.getMessage(), e);
        }
    }

    private static long[] shapeOf(GraftModel model, SDVariable placeholder) {
        for (TensorInfo in : model.inputs()) {
            if (in.name().equals(placeholder.name()) && in.shape() != null) return in.shape();
        }
        return placeholder.placeholderShape();
    }

    private static int inputOrder(GraftModel model, String name) {
        int i = model.inputNames().indexOf(name);
        return i < 0 ? Integer.MAX_VALUE : i;
    }

    private static ValueInfoProto inputInfo(GraftModel model, SDVariable v) {
        TensorInfo info = null;
        for (TensorInfo in : model.inputs()) if (in.name().equals(v.name())) info = in;
        long[] shape = info != null ? info.shape() : v.placeholderShape();
        List<String> dimNames = info != null ? info.dimNames() : null;
        TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.toOnnx(v.dataType()));
        if (shape != null) {
            TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
            for (int d = 0; d < shape.length; d++) {
                String symbol = dimNames != null && d < dimNames.size() ? dimNames.get(d) : null;
                if (shape[d] >= 0) {
                    s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(shape[d]));
                } else {
                    String name = symbol != null && !symbol.isEmpty() ? symbol : d == 0 ? "batch" : v.name() + "_dim" + d;
                    s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(name));
                }
            }
            t.setShape(s);
        }
        return ValueInfoProto.newBuilder().setName(v.name()).setType(TypeProto.newBuilder().setTensorType(t)).build();
    }

    private static ValueInfoProto outputInfo(GraftModel model, SDVariable v, Map<String, INDArray> probe) {
        TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.toOnnx(v.dataType()));
        INDArray probed = probe.get(v.name());
        if (probed != null) {
            // Rank only: sizes seen on the probe input may depend on dynamic input sizes.
            TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
            for (int d = 0; d < probed.rank(); d++) s.addDim(TensorShapeProto.Dimension.newBuilder());
            t.setShape(s);
        }
        for (TensorInfo out : model.outputs()) {
            if (out.name().equals(v.name()) && out.shape() != null) {
                TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
                long[] shape = out.shape();
                for (int d = 0; d < shape.length; d++) {
                    String symbol = out.dimNames() != null && d < out.dimNames().size() ? out.dimNames().get(d) : null;
                    TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
                    if (shape[d] >= 0) dim.setDimValue(shape[d]);
                    else if (symbol != null && !symbol.isEmpty()) dim.setDimParam(symbol);
                    s.addDim(dim);
                }
                t.setShape(s);
            }
        }
        return ValueInfoProto.newBuilder().setName(v.name()).setType(TypeProto.newBuilder().setTensorType(t)).build();
    }

    private static void checkSize(ExportGraph g, long limit) {
        long bytes = 0;
        for (TensorProto t : g.initializers.values()) bytes += t.getSerializedSize();
        for (NodeProto n : g.nodes) bytes += n.getSerializedSize();
        if (bytes > limit) {
            throw new GraftException(String.format("Cannot export: the model needs %.2f GB, over the 2 GB a single "
                    + "ONNX protobuf file can hold; graft does not write ONNX external data yet, so no file was written",
                    bytes / 1e9));
        }
    }

    private static ModelProto buildModel(GraftModel model, ExportGraph g, Options options) {
        GraftModel.SourceInfo source = model.source();
        String from = source.path() == null ? "a SameDiff graph built in Java"
                : source.path().getFileName() + " (" + source.format() + (source.opset() > 0 ? ", opset " + source.opset() : "") + ")";
        GraphProto.Builder graph = GraphProto.newBuilder()
                .setName(source.path() == null ? "graft" : stripExtension(source.path().getFileName().toString()))
                .setDocString("Exported by graft " + Graft.VERSION + " from " + from + ".")
                .addAllNode(g.nodes).addAllInitializer(g.initializers.values())
                .addAllInput(g.inputs).addAllOutput(g.outputs);
        ModelProto.Builder m = ModelProto.newBuilder()
                .setIrVersion(irVersion(options.opset()))
                .setProducerName("graft").setProducerVersion(Graft.VERSION)
                .setDocString("graft " + Graft.VERSION + ": " + from)
                .setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(options.opset()));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("graft.version", Graft.VERSION);
        if (source.path() != null) {
            meta.put("graft.source.file", source.path().getFileName().toString());
            String sha = sha256(source.path());
            if (sha != null) meta.put("graft.source.sha256", sha);
            meta.put("graft.source.format", source.format());
        }
        if (model.trainingSummary() != null) meta.put("graft.training", model.trainingSummary());
        meta.putAll(options.metadata());
        meta.forEach((k, v) -> m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return m.build();
    }

    /** The IR version that goes with an opset (ONNX's versioning table). */
    static long irVersion(int opset) {
        if (opset <= 18) return 8;
        if (opset <= 20) return 9;
        return 10;
    }

    private static String stripExtension(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /** The file's sha256, or null for a source that is not a regular file (a SavedModel directory). */
    static String sha256(Path file) {
        if (!Files.isRegularFile(file)) return null;
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new GraftException(file + ": cannot read to compute its sha256: " + e.getMessage(), e);
        }
    }
}
