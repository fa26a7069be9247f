package dev.graft.tensorflow;

import com.google.protobuf.ByteString;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.LoadOptions;
import dev.graft.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Imports a TensorFlow model (frozen GraphDef or SavedModel, TF 1.x or 2.x) into SameDiff:
 * <ol>
 *   <li>read the files and pick the signature, inputs and outputs ({@link TfModelFile});</li>
 *   <li>inline function-library calls ({@link TfFunctionInliner});</li>
 *   <li>keep only what the outputs need, resolving identities and constant Switch/Merge ({@link TfGraphResolver});</li>
 *   <li>read variable values from the SavedModel's checkpoint through TensorFlow Java;</li>
 *   <li>load the pruned graph, variables frozen in, into a TensorFlow session that answers shapes and
 *       constant values, then convert node by node through the op families of {@link TfConverterRegistry}.</li>
 * </ol>
 * TensorFlow's NHWC layout is kept in SameDiff; variables become trainable SameDiff variables under their
 * TensorFlow names (in a frozen graph: every floating-point Const of two or more elements).
 */
public final class TensorflowImporter {
    static final String DOMAIN = "tensorflow";
    private static final java.util.Set<String> SOURCES = java.util.Set.of("Placeholder", "PlaceholderWithDefault", "Const");

    private final TfConverterRegistry registry;

    public TensorflowImporter() {
        this(TfConverterRegistry.standard());
    }

    public TensorflowImporter(TfConverterRegistry registry) {
        this.registry = registry;
    }

    /** The signatures of a SavedModel, by key, as "inputs -> outputs" text (empty for a GraphDef). */
    public static Map<String, String> signatures(Path path) {
        TfModelFile f = TfModelFile.read(path, List.of());
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, SignatureDef> e : f.signatures().entrySet()) {
            out.put(e.getKey(), describe(e.getValue().getInputsMap()) + " -> " + describe(e.getValue().getOutputsMap()));
        }
        return out;
    }

    private static String describe(Map<String, org.tensorflow.proto.TensorInfo> m) {
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, org.tensorflow.proto.TensorInfo> e : new TreeMap<>(m).entrySet()) {
            parts.add(e.getKey() + " (" + e.getValue().getName() + ", " + e.getValue().getDtype().name().replace("DT_", "").toLowerCase()
                    + shapeText(e.getValue().getTensorShape()) + ")");
        }
        return String.join(", ", parts);
    }

    private static String shapeText(TensorShapeProto s) {
        if (s.getUnknownRank()) return "";
        StringBuilder b = new StringBuilder(" [");
        for (int i = 0; i < s.getDimCount(); i++) b.append(i == 0 ? "" : ", ").append(s.getDim(i).getSize() < 0 ? "?" : s.getDim(i).getSize());
        return b.append("]").toString();
    }

    private record Endpoint(String publicName, String tensor) {
    }

    public GraftModel importModel(Path path) {
        return importModel(path, LoadOptions.defaults());
    }

    public GraftModel importModel(Path path, LoadOptions options) {
        TfModelFile file = TfModelFile.read(path, options.tags());
        String where = file.path().toString();
        GraphDef graph = new TfFunctionInliner(file.graph()).inline(file.graph());

        // Inputs and outputs: a signature's, or a GraphDef's placeholders and sinks; --output overrides.
        List<Endpoint> inputs = new ArrayList<>();
        List<Endpoint> outputs = new ArrayList<>();
        SignatureDef signature = null;
        if (file.savedModel()) {
            Map<String, SignatureDef> sigs = file.signatures();
            String key = options.signature();
            if (key == null) key = sigs.containsKey("serving_default") ? "serving_default" : sigs.size() == 1 ? sigs.keySet().iterator().next() : null;
            if (key == null || !sigs.containsKey(key)) {
                throw new GraftException(where + ": " + (key == null ? "no signature was named and there is no 'serving_default'"
                        : "no signature '" + key + "'") + "; the SavedModel has " + (sigs.isEmpty() ? "none" : String.join(", ", sigs.keySet())));
            }
            signature = sigs.get(key);
            for (Map.Entry<String, org.tensorflow.proto.TensorInfo> e : new TreeMap<>(signature.getInputsMap()).entrySet()) {
                inputs.add(new Endpoint(e.getKey(), TfGraphResolver.normalize(e.getValue().getName())));
            }
            for (Map.Entry<String, org.tensorflow.proto.TensorInfo> e : new TreeMap<>(signature.getOutputsMap()).entrySet()) {
                outputs.add(new Endpoint(e.getKey(), TfGraphResolver.normalize(e.getValue().getName())));
            }
        }
        Map<String, NodeDef> byName = new HashMap<>();
        for (NodeDef n : graph.getNodeList()) byName.put(n.getName(), n);
        if (!options.outputs().isEmpty()) {
            List<Endpoint> chosen = new ArrayList<>();
            for (String o : options.outputs()) chosen.add(outputByName(where, o, outputs, byName));
            outputs = chosen;
        } else if (!file.savedModel()) {
            outputs = sinks(graph);
            if (outputs.isEmpty()) throw new GraftException(where + ": the graph has no sink node to use as output; name one with --output");
        }

        Set<String> fed = new HashSet<>();
        inputs.forEach(e -> fed.add(TfGraphResolver.nodeOf(e.tensor())));
        TfGraphResolver resolver = new TfGraphResolver(where, graph, fed);
        List<String> resolvedOutputs = new ArrayList<>();
        for (Endpoint o : outputs) {
            String r = resolver.resolve(o.tensor());
            if (r.equals(TfGraphResolver.DEAD)) throw new GraftException(where + ": output '" + o.publicName() + "' (" + o.tensor() + ") lies on a branch that is never taken");
            resolvedOutputs.add(r);
        }
        List<TfNode> needed = resolver.needed(resolvedOutputs);

        // One error for every op graft cannot convert; placeholders the signature does not feed.
        Map<String, List<String>> unsupported = new TreeMap<>();
        for (TfNode n : needed) {
            String op = n.op();
            if (SOURCES.contains(op) || TfGraphResolver.VARIABLE_OPS.contains(op)) continue;
            if (registry.importer(op).isEmpty()) unsupported.computeIfAbsent(op, k -> new ArrayList<>()).add(n.name());
        }
        if (!unsupported.isEmpty()) {
            StringBuilder b = new StringBuilder(where + ": " + unsupported.size() + " TensorFlow op type(s) on the path to the outputs have no converter: ");
            List<String> parts = new ArrayList<>();
            unsupported.forEach((op, names) -> parts.add(op + " (" + names.size() + " node" + (names.size() == 1 ? "" : "s")
                    + ", first '" + names.get(0) + "')"));
            throw new GraftException(b.append(String.join(", ", parts)).toString());
        }
        if (!file.savedModel()) {
            for (TfNode n : needed) {
                if (n.op().equals("Placeholder")) inputs.add(new Endpoint(n.name(), n.name() + ":0"));
            }
        } else {
            for (TfNode n : needed) {
                if (n.op().equals("Placeholder") && !fed.contains(n.name())) {
                    throw new GraftException(where + ": the outputs need placeholder '" + n.name() + "', which the signature does not feed");
                }
            }
        }

        // Values of variables (from the checkpoint) and of constants; the graph TensorFlow will evaluate.
        Map<String, INDArray> constants = new HashMap<>();
        Set<String> trainable = new HashSet<>();
        List<TfNode> variables = needed.stream().filter(n -> TfGraphResolver.VARIABLE_OPS.contains(n.op())).toList();
        if (!variables.isEmpty()) {
            if (!file.savedModel()) {
                throw new GraftException(where + ": node '" + variables.get(0).name() + "' is a variable (" + variables.get(0).op()
                        + "), but a GraphDef holds no variable values; freeze the graph or import the SavedModel directory");
            }
            constants.putAll(readVariables(file, variables));
            trainable.addAll(constants.keySet());
        }
        GraphDef pruned = prunedGraph(graph, needed, constants);

        try (Graph tfGraph = new Graph(); Session session = new Session(tfGraph)) {
            try {
                tfGraph.importGraphDef(pruned);
            } catch (IllegalArgumentException | org.tensorflow.exceptions.TensorFlowException e) {
                throw new GraftException(where + ": TensorFlow rejects the graph: " + e.getMessage(), e);
            }
            for (TfNode n : needed) {
                if (n.op().equals("Const")) {
                    String ref = n.name() + ":0";
                    INDArray v = fetch(session, ref, where);
                    constants.put(ref, v);
                    if (!file.savedModel() && v.dataType().isFPType() && v.length() >= 2) trainable.add(ref);
                }
            }
            return build(file, where, graph, needed, inputs, outputs, resolvedOutputs, constants, trainable, tfGraph, session);
        }
    }

    private GraftModel build(TfModelFile file, String where, GraphDef graph, List<TfNode> needed, List<Endpoint> inputs,
                             List<Endpoint> outputs, List<String> resolvedOutputs, Map<String, INDArray> constants,
                             Set<String> trainable, Graph tfGraph, Session session) {
        SameDiff sd = SameDiff.create();
        Map<String, String> inputNames = new HashMap<>();
        for (Endpoint e : inputs) inputNames.put(TfGraphResolver.nodeOf(e.tensor()), e.publicName());

        // Which tensors depend on an input (their values can't be read at import time).
        Set<String> dynamic = new HashSet<>();
        Map<String, INDArray> probeFeeds = new LinkedHashMap<>();
        for (TfNode n : needed) {
            boolean dyn = inputNames.containsKey(n.name());
            if (!dyn && (n.op().equals("Shape") || n.op().equals("Size") || n.op().equals("Rank"))) {
                org.tensorflow.ndarray.Shape s = tfGraph.operation(TfGraphResolver.nodeOf(n.input(0))).output(TfGraphResolver.indexOf(n.input(0))).shape();
                dyn = s.isUnknown() || s.hasUnknownDimension();
            } else if (!dyn) {
                for (String in : n.inputs()) dyn |= dynamic.contains(in);
            }
            if (dyn) {
                int outs = tfGraph.operation(n.name()).numOutputs();
                for (int k = 0; k < outs; k++) dynamic.add(n.name() + ":" + k);
            }
        }
        for (Endpoint e : inputs) {
            GraphOperation op = tfGraph.operation(TfGraphResolver.nodeOf(e.tensor()));
            long[] shape = op.output(0).shape().isUnknown() ? null : op.output(0).shape().asArray();
            DataType type = TfTensors.toNd4j(op.output(0).dataType(), "input '" + e.publicName() + "'");
            probeFeeds.put(TfGraphResolver.nodeOf(e.tensor()), probeValue(type, shape, e.publicName(), where));
        }

        TfImportContext ctx = new TfImportContext(sd, where, tfGraph, session, dynamic, constants, trainable, probeFeeds);
        Map<String, String> opOrigins = new HashMap<>();
        List<GraftModel.SourceNode> sourceNodes = new ArrayList<>();
        Map<String, Integer> histogram = new TreeMap<>();
        for (NodeDef n : graph.getNodeList()) histogram.merge(n.getOp(), 1, Integer::sum);
        List<TensorInfo> inputInfos = new ArrayList<>();
        for (TfNode n : needed) {
            if (n.op().equals("Const") || TfGraphResolver.VARIABLE_OPS.contains(n.op())) continue; // created on first use
            if (inputNames.containsKey(n.name())) {
                GraphOperation op = tfGraph.operation(n.name());
                long[] shape = op.output(0).shape().isUnknown() ? null : op.output(0).shape().asArray();
                DataType type = TfTensors.toNd4j(op.output(0).dataType(), n.describe());
                SDVariable p = sd.placeHolder(inputNames.get(n.name()), type, shape == null ? null : shape);
                ctx.bind(n.name() + ":0", p);
                inputInfos.add(new TensorInfo(p.name(), type, shape, null));
                continue;
            }
            Set<String> before = new HashSet<>(sd.getOps().keySet());
            try {
                registry.importer(n.op()).orElseThrow().importNode(n, ctx);
            } catch (GraftException e) {
                throw e.getMessage().startsWith("TensorFlow node") ? new GraftException(where + ": " + e.getMessage(), e) : e;
            } catch (RuntimeException e) {
                throw new GraftException(where + ": " + n.describe() + ": " + e, e);
            }
            Map<String, GraftModel.OpWiring> wiring = new LinkedHashMap<>();
            for (var e : sd.getOps().entrySet()) {
                if (before.contains(e.getKey())) continue;
                opOrigins.put(e.getKey(), n.describe());
                List<String> ins = e.getValue().getInputsToOp() == null ? List.of() : e.getValue().getInputsToOp();
                wiring.put(e.getKey(), new GraftModel.OpWiring(ins, e.getValue().getOutputsOfOp()));
            }
            List<String> ins = new ArrayList<>();
            for (String in : n.inputs()) ins.add(ctx.hasValue(in) ? ctx.value(in).name() : "");
            List<String> outs = new ArrayList<>();
            int numOutputs = tfGraph.operation(n.name()).numOutputs();
            for (int k = 0; k < numOutputs; k++) outs.add(ctx.hasValue(n.name() + ":" + k) ? ctx.value(n.name() + ":" + k).name() : "");
            sourceNodes.add(new GraftModel.SourceNode(n.name(), n.op(), DOMAIN, 0, n.def().toByteArray(), ins, outs, wiring));
        }

        List<TensorInfo> outputInfos = new ArrayList<>();
        Set<String> used = new HashSet<>(sd.variableMap().keySet());
        for (int i = 0; i < outputs.size(); i++) {
            String ref = resolvedOutputs.get(i);
            SDVariable v = ctx.value(ref);
            String name = outputs.get(i).publicName();
            if (!v.name().equals(name)) {
                if (sd.hasVariable(name)) {
                    if (sd.getVariable(name).getVariableType() != org.nd4j.autodiff.samediff.VariableType.ARRAY) {
                        throw new GraftException(where + ": output name '" + name + "' is already an input or weight; name the output by tensor");
                    }
                    sd.renameVariable(name, ctx.uniqueName(name + "_intermediate"));
                }
                v = sd.identity(name, v);
            }
            long[] shape = tfGraph.operation(TfGraphResolver.nodeOf(ref)).output(TfGraphResolver.indexOf(ref)).shape().isUnknown() ? null
                    : tfGraph.operation(TfGraphResolver.nodeOf(ref)).output(TfGraphResolver.indexOf(ref)).shape().asArray();
            outputInfos.add(new TensorInfo(v.name(), v.dataType(), shape, null));
        }
        String format = file.savedModel() ? "tensorflow-savedmodel" : "tensorflow-graphdef";
        String producer = "TensorFlow (GraphDef producer version " + file.graph().getVersions().getProducer() + ")";
        GraftModel.SourceInfo source = new GraftModel.SourceInfo(file.path(), format, 0, producer, file.graph().getNodeCount(), histogram);
        return new GraftModel(sd, inputInfos, outputInfos, source, opOrigins, sourceNodes);
    }

    /** A generated feed for shape probing: batch and other unknown sizes set to small distinct numbers. */
    private static INDArray probeValue(DataType type, long[] shape, String name, String where) {
        if (shape == null) throw new GraftException(where + ": input '" + name + "' has unknown rank; graft needs its rank");
        long[] s = shape.clone();
        for (int i = 0; i < s.length; i++) if (s[i] < 0) s[i] = i == 0 ? 2 : 7;
        Nd4j.getRandom().setSeed(7);
        INDArray a = type.isFPType() ? Nd4j.rand(DataType.DOUBLE, s).castTo(type) : Nd4j.zeros(type, s);
        return a;
    }

    private static Endpoint outputByName(String where, String name, List<Endpoint> signatureOutputs, Map<String, NodeDef> nodes) {
        for (Endpoint e : signatureOutputs) if (e.publicName().equals(name)) return e;
        String ref = TfGraphResolver.normalize(name);
        if (!nodes.containsKey(TfGraphResolver.nodeOf(ref))) {
            List<String> keys = signatureOutputs.stream().map(Endpoint::publicName).toList();
            throw new GraftException(where + ": no output or node named '" + name + "'"
                    + (keys.isEmpty() ? "" : "; the signature's outputs are " + keys));
        }
        String publicName = TfGraphResolver.indexOf(ref) == 0 ? TfGraphResolver.nodeOf(ref) : ref;
        return new Endpoint(publicName, ref);
    }

    /** Output 0 of every node that no other node reads and that computes something. */
    private static List<Endpoint> sinks(GraphDef g) {
        Set<String> read = new HashSet<>();
        for (NodeDef n : g.getNodeList()) for (String in : n.getInputList()) read.add(TfGraphResolver.nodeOf(TfGraphResolver.normalize(in.startsWith("^") ? in.substring(1) : in)));
        List<Endpoint> out = new ArrayList<>();
        Set<String> noOutputs = Set.of("NoOp", "Assign", "AssignVariableOp", "SaveV2", "RestoreV2", "MergeV2Checkpoints", "Const",
                "Placeholder", "PlaceholderWithDefault", "VariableV2", "VarHandleOp", "ApplyAdam", "ApplyGradientDescent");
        for (NodeDef n : g.getNodeList()) {
            if (!read.contains(n.getName()) && !noOutputs.contains(n.getOp())) out.add(new Endpoint(n.getName(), n.getName() + ":0"));
        }
        return out;
    }

    /** Values of the needed variables, read from the SavedModel's checkpoint by TensorFlow Java. */
    private static Map<String, INDArray> readVariables(TfModelFile file, List<TfNode> variables) {
        String where = file.path().toString();
        if (!java.nio.file.Files.isDirectory(file.path().resolve("variables"))) {
            throw new GraftException(where + ": the graph has variables (first '" + variables.get(0).name()
                    + "') but the SavedModel has no variables/ directory");
        }
        Map<String, INDArray> out = new HashMap<>();
        SavedModelBundle bundle;
        try {
            bundle = SavedModelBundle.loader(file.path().toString()).withTags(file.tags().toArray(new String[0])).load();
        } catch (RuntimeException e) {
            throw new GraftException(where + ": TensorFlow cannot load the SavedModel: " + e.getMessage(), e);
        }
        try (bundle) {
            Graph g = bundle.graph();
            for (TfNode v : variables) {
                GraphOperation op = g.operation(v.name());
                if (op == null) throw new GraftException(where + ": variable '" + v.name() + "' is not in the loaded SavedModel");
                String fetch = v.name() + ":0";
                if (v.op().equals("VarHandleOp")) {
                    GraphOperation read = g.opBuilder("ReadVariableOp", "graft_read/" + v.name(), g.baseScope())
                            .addInput(op.output(0)).setAttr("dtype", v.getType("dtype")).build();
                    fetch = read.name() + ":0";
                }
                try (Result r = bundle.session().runner().fetch(fetch).run()) {
                    out.put(v.name() + ":0", TfTensors.toNd4j(r.get(0), v.describe()));
                } catch (org.tensorflow.exceptions.TensorFlowException e) {
                    throw new GraftException(where + ": " + v.describe() + ": its value cannot be read from the checkpoint: " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    /** The needed nodes with resolved inputs and no control edges, variables frozen into Consts. */
    private static GraphDef prunedGraph(GraphDef graph, List<TfNode> needed, Map<String, INDArray> variableValues) {
        GraphDef.Builder b = GraphDef.newBuilder().setVersions(graph.getVersions());
        for (TfNode n : needed) {
            INDArray value = variableValues.get(n.name() + ":0");
            if (value != null) {
                b.addNode(NodeDef.newBuilder().setName(n.name()).setOp("Const")
                        .putAttr("dtype", AttrValue.newBuilder().setType(tfType(value.dataType())).build())
                        .putAttr("value", AttrValue.newBuilder().setTensor(tensorProto(value)).build()));
                continue;
            }
            NodeDef.Builder nb = n.def().toBuilder().clearInput().clearDevice();
            if (n.op().equals("PlaceholderWithDefault")) {
                // fed as an input: a plain Placeholder of the same type and shape
                nb = NodeDef.newBuilder().setName(n.name()).setOp("Placeholder")
                        .putAttr("dtype", n.def().getAttrOrThrow("dtype")).putAttr("shape", n.def().getAttrOrThrow("shape"));
            } else {
                nb.addAllInput(n.inputs());
            }
            b.addNode(nb);
        }
        return b.build();
    }

    static org.tensorflow.proto.DataType tfType(DataType t) {
        return switch (t) {
            case FLOAT -> org.tensorflow.proto.DataType.DT_FLOAT;
            case DOUBLE -> org.tensorflow.proto.DataType.DT_DOUBLE;
            case HALF -> org.tensorflow.proto.DataType.DT_HALF;
            case BFLOAT16 -> org.tensorflow.proto.DataType.DT_BFLOAT16;
            case INT -> org.tensorflow.proto.DataType.DT_INT32;
            case LONG -> org.tensorflow.proto.DataType.DT_INT64;
            case BOOL -> org.tensorflow.proto.DataType.DT_BOOL;
            case UBYTE -> org.tensorflow.proto.DataType.DT_UINT8;
            default -> throw new GraftException("ND4J type " + t + " has no TensorFlow counterpart here");
        };
    }

    static TensorProto tensorProto(INDArray a) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : a.shape()) s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
        byte[] bytes;
        try (Tensor t = TfTensors.toTensorflow(a, "value")) {
            bytes = new byte[(int) t.numBytes()];
            t.asRawTensor().data().read(bytes);
        }
        return TensorProto.newBuilder().setDtype(tfType(a.dataType())).setTensorShape(s).setTensorContent(ByteString.copyFrom(bytes)).build();
    }

    private static INDArray fetch(Session session, String ref, String where) {
        try (Result r = session.runner().fetch(ref).run()) {
            return TfTensors.toNd4j(r.get(0), ref);
        } catch (org.tensorflow.exceptions.TensorFlowException e) {
            throw new GraftException(where + ": TensorFlow could not compute '" + ref + "': " + e.getMessage(), e);
        }
    }
}
