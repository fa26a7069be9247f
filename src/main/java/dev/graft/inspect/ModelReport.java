package dev.graft.inspect;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.OnnxImporter;
import dev.graft.onnx.export.OnnxExporter;
import dev.graft.onnx.OnnxModelReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** What {@code graft inspect} tells about a model, as text or JSON. */
public record ModelReport(String file, String format, long irVersion, int opset, String producer,
                          List<String> inputs, List<String> outputs, int nodeCount, long parameterCount,
                          Map<String, Integer> opHistogram, Map<String, String> converters,
                          List<String> unsupportedOps, boolean imports,
                          String importError, List<String> suggestedCuts, List<String> exportBlockers,
                          List<String> spelledOutExportBlockers, int nodesWrittenBack, Map<String, String> signatures) {

    /** Ops that pass a classifier's logits through unchanged in shape (walked over to find the classifier). */
    private static final Set<String> PASS_THROUGH = Set.of("Softmax", "LogSoftmax", "Sigmoid", "Identity",
            "Dropout", "Flatten", "Reshape", "Squeeze", "Relu", "Add", "Cast");

    public static ModelReport of(Path file) {
        if (dev.graft.Graft.isTensorflow(file)) return ofTensorflow(file);
        OnnxModelReader reader = OnnxModelReader.of(file);
        ModelProto model = reader.read();
        GraphProto graph = model.getGraph();
        int opset = OnnxModelReader.defaultOpset(model);
        Map<String, Integer> histogram = new TreeMap<>();
        Map<String, Integer> unsupported = new TreeMap<>();
        Map<String, String> converters = new TreeMap<>();
        ConverterRegistry registry = ConverterRegistry.standard();
        for (NodeProto n : graph.getNodeList()) {
            histogram.merge(n.getOpType(), 1, Integer::sum);
            int nodeOpset = OnnxModelReader.opsetFor(model, n.getDomain());
            var converter = registry.converterFor(n.getDomain(), n.getOpType(), nodeOpset);
            converters.put(n.getOpType(), converter.orElse("none"));
            if (converter.isEmpty()) {
                unsupported.merge(n.getOpType(), 1, Integer::sum);
            }
        }
        List<String> unsupportedList = new ArrayList<>();
        unsupported.forEach((op, count) -> unsupportedList.add(op + " x" + count));
        GraftModel imported = null;
        String error = null;
        try {
            imported = new OnnxImporter(registry).importModel(model, reader);
        } catch (GraftException e) {
            error = e.getMessage();
        }
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        if (imported != null) {
            imported.inputs().forEach(t -> inputs.add(t.toString()));
            imported.outputs().forEach(t -> outputs.add(t.toString()));
        } else {
            graph.getInputList().forEach(v -> inputs.add(v.getName()));
            graph.getOutputList().forEach(v -> outputs.add(v.getName()));
        }
        // Pre-flight for the way back: the default export (intact nodes written back as they were) and the
        // export after fine-tuning changed nodes (every SameDiff op spelled out by its exporter).
        List<String> exportBlockers = List.of();
        List<String> spelledOutBlockers = List.of();
        int writtenBack = 0;
        if (imported != null) {
            OnnxExporter exporter = new OnnxExporter(registry);
            exportBlockers = exporter.exportBlockers(imported, List.of(), true);
            spelledOutBlockers = exporter.exportBlockers(imported, List.of(), false);
            writtenBack = exporter.writableSourceNodes(imported);
        }
        return new ModelReport(file.toString(), "onnx", model.getIrVersion(), opset,
                (model.getProducerName() + " " + model.getProducerVersion()).trim(), inputs, outputs,
                graph.getNodeCount(), imported == null ? -1 : imported.parameterCount(), histogram, converters, unsupportedList,
                imported != null, error, suggestedCuts(graph), exportBlockers, spelledOutBlockers, writtenBack, Map.of());
    }

    /**
     * A TensorFlow SavedModel or GraphDef: its signatures, the ops of the whole graph (training ops included)
     * with the converter of each, and whether what the serving outputs need imports and exports.
     */
    public static ModelReport ofTensorflow(Path file) {
        Map<String, String> signatures = dev.graft.tensorflow.TensorflowImporter.signatures(file);
        dev.graft.tensorflow.TfConverterRegistry registry = dev.graft.tensorflow.TfConverterRegistry.standard();
        GraftModel imported = null;
        String error = null;
        try {
            imported = dev.graft.Graft.load(file);
        } catch (GraftException e) {
            error = e.getMessage();
        }
        Map<String, Integer> histogram = new TreeMap<>();
        Map<String, String> converters = new TreeMap<>();
        List<String> unsupported = new ArrayList<>();
        String format = Files.isDirectory(file) ? "tensorflow-savedmodel" : "tensorflow-graphdef";
        String producer = "";
        long nodes = 0;
        if (imported != null) {
            histogram.putAll(imported.source().opHistogram());
            producer = imported.source().producer();
            nodes = imported.source().nodeCount();
            // Ops of the whole graph (a TF 1.x SavedModel keeps its training ops) that the outputs do not need are
            // listed but never imported.
            java.util.Set<String> needed = new java.util.HashSet<>();
            imported.sourceNodes().forEach(n -> needed.add(n.opType()));
            for (String op : histogram.keySet()) {
                String family = registry.familyOf(op);
                converters.put(op, family.equals("none") && !needed.contains(op) ? "- (not needed by the outputs)" : family);
            }
        } else if (error != null && error.contains("have no converter: ")) {
            unsupported.add(error.substring(error.indexOf("have no converter: ") + "have no converter: ".length()));
        }
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        List<String> exportBlockers = List.of();
        List<String> spelledOut = List.of();
        List<String> cuts = new ArrayList<>();
        if (imported != null) {
            imported.inputs().forEach(t -> inputs.add(t.toString()));
            imported.outputs().forEach(t -> outputs.add(t.toString()));
            OnnxExporter exporter = new OnnxExporter();
            exportBlockers = exporter.exportBlockers(imported, List.of(), true);
            spelledOut = exporter.exportBlockers(imported, List.of(), false);
            try {
                cuts.add(dev.graft.surgery.Surgery.autoCut(imported).tensor());
            } catch (GraftException e) {
                // no classifier found: no suggestion
            }
        }
        return new ModelReport(file.toString(), format, 0, 0, producer, inputs, outputs, (int) nodes,
                imported == null ? -1 : imported.parameterCount(), histogram, converters, unsupported, imported != null, error,
                cuts, exportBlockers, spelledOut, 0, signatures);
    }

    /**
     * The tensors feeding the final classifier: from each graph output, walk back over shape-preserving ops
     * to the last Gemm or MatMul, and name its data input.
     */
    public static List<String> suggestedCuts(GraphProto graph) {
        Map<String, NodeProto> producer = new HashMap<>();
        for (NodeProto n : graph.getNodeList()) {
            for (String o : n.getOutputList()) producer.put(o, n);
        }
        List<String> cuts = new ArrayList<>();
        for (var out : graph.getOutputList()) {
            NodeProto n = producer.get(out.getName());
            int steps = 0;
            boolean pooled = false;
            while (n != null && steps++ < 10) {
                if (n.getOpType().equals("Gemm") || n.getOpType().equals("MatMul") || (pooled && isPointwiseConv(n, graph))) {
                    if (!cuts.contains(n.getInput(0))) cuts.add(n.getInput(0));
                    break;
                }
                // SqueezeNet-style heads classify with a 1x1 convolution before global pooling.
                pooled |= n.getOpType().equals("GlobalAveragePool") || n.getOpType().equals("GlobalMaxPool");
                if (!PASS_THROUGH.contains(n.getOpType()) && !n.getOpType().startsWith("Global")) break;
                n = producer.get(n.getInput(0));
            }
        }
        return cuts;
    }

    /** A Conv whose weight initializer has 1x1 kernels: a per-position classifier. */
    private static boolean isPointwiseConv(NodeProto n, GraphProto graph) {
        if (!n.getOpType().equals("Conv") || n.getInputCount() < 2) return false;
        for (var t : graph.getInitializerList()) {
            if (t.getName().equals(n.getInput(1))) {
                return t.getDimsCount() == 4 && t.getDims(2) == 1 && t.getDims(3) == 1;
            }
        }
        return false;
    }

    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append("model:      ").append(file).append('\n');
        sb.append("format:     ").append(format).append(format.equals("onnx") ? " (IR " + irVersion + ", opset " + opset + ")" : "").append("\n");
        if (!producer.isEmpty()) sb.append("producer:   ").append(producer).append('\n');
        if (!signatures.isEmpty()) {
            sb.append("signatures:\n");
            signatures.forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v).append('\n'));
        }
        sb.append("inputs:\n");
        inputs.forEach(i -> sb.append("  ").append(i).append('\n'));
        sb.append("outputs:\n");
        outputs.forEach(o -> sb.append("  ").append(o).append('\n'));
        sb.append("nodes:      ").append(nodeCount).append('\n');
        if (parameterCount >= 0) sb.append("parameters: ").append(String.format("%,d", parameterCount)).append('\n');
        sb.append("ops:                                  converter\n");
        opHistogram.forEach((op, c) -> sb.append(String.format("  %-28s %5d    %s%n", op, c, converters.get(op))));
        sb.append("import:     ").append(imports ? "yes, every op has a converter"
                : "NO: " + (unsupportedOps.isEmpty() ? importError : "unsupported " + unsupportedOps)).append('\n');
        if (imports) {
            sb.append("export:     ").append(exportBlockers.isEmpty()
                    ? "yes, at opset " + OnnxExporter.DEFAULT_OPSET + ": " + (format.equals("onnx") ? nodesWrittenBack + " of " + nodeCount
                    + " nodes written back as they are" + (nodesWrittenBack < nodeCount
                            ? " (constants folded; other nodes spelled out op by op)" : "") : "every SameDiff op spelled out as ONNX (NCHW)")
                    : "NO: SameDiff ops without an ONNX exporter:\n    " + String.join("\n    ", exportBlockers)).append('\n');
            sb.append("after fine-tuning changes nodes: ").append(spelledOutExportBlockers.isEmpty()
                    ? "every op can be spelled out for export"
                    : "these SameDiff ops could not be exported:\n    " + String.join("\n    ", spelledOutExportBlockers)).append('\n');
        } else {
            sb.append("export:     not checked (the model does not import)\n");
        }
        sb.append("cut points: ").append(suggestedCuts.isEmpty() ? "none found (no Gemm/MatMul or pooled 1x1 Conv classifier at the end)"
                : String.join(", ", suggestedCuts) + " (input of the final classifier)").append('\n');
        return sb.toString();
    }
}
