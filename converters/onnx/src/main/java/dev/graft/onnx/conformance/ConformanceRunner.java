package dev.graft.onnx.conformance;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.io.Npy;
import dev.graft.verify.Agreement;
import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.OnnxImporter;
import dev.graft.onnx.export.OnnxExporter;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.onnx.OnnxModelReader;
import dev.graft.onnx.OnnxTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs ONNX backend test cases ({@code <case>/model.onnx} with {@code test_data_set_N/input_K.pb} and
 * {@code output_K.pb}) through graft's importer and SameDiff, comparing with the expected outputs.
 */
public final class ConformanceRunner {

    /** Default tolerance: |actual - expected| <= ATOL + RTOL * |expected| (the ONNX backend test default). */
    public static final double RTOL = 1e-3;
    public static final double ATOL = 1e-5;
    /**
     * For bfloat16 outputs: one bfloat16 step (8 significant bits). The suite's generator truncates to
     * bfloat16 where the ONNX spec rounds to nearest even, so results may differ by one step.
     */
    public static final double BFLOAT16_RTOL = 1.0 / 128;

    /** The op families graft commits to (issue #2); a case is in scope when all its ops are listed here. */
    public static final Set<String> SCOPE = Set.of(
            "Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log",
            "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Erf", "Sin", "Cos", "Tanh", "Relu", "LeakyRelu", "PRelu",
            "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Gelu", "Clip",
            "Softmax", "LogSoftmax", "BatchNormalization", "InstanceNormalization", "LayerNormalization", "LRN",
            "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Transpose",
            "Squeeze", "Unsqueeze", "Concat", "Split", "Slice", "Gather", "GatherElements", "Expand", "Tile", "Pad",
            "Shape", "Size", "Cast", "Constant", "ConstantOfShape", "Identity", "Dropout", "Range", "Where",
            "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
            "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "Equal", "Greater", "Less",
            "GreaterOrEqual", "LessOrEqual", "Not", "And", "Or", "Xor", "Max", "Min", "Sum", "Mean", "Resize",
            "Upsample", "DepthToSpace", "SpaceToDepth", "Einsum");

    private static final Set<DataType> COMPARABLE = Set.of(DataType.FLOAT, DataType.DOUBLE, DataType.HALF,
            DataType.LONG, DataType.INT, DataType.SHORT, DataType.BYTE, DataType.UBYTE, DataType.BOOL,
            DataType.UINT16, DataType.UINT32, DataType.UINT64, DataType.BFLOAT16);

    private final Path dumpDir;
    private final boolean roundTrips;
    private final ConverterRegistry registry = ConverterRegistry.standard();

    public ConformanceRunner(Path dumpDir) {
        this(dumpDir, false);
    }

    /** With {@code roundTrips}, each case that imports is also exported twice and run in ONNX Runtime. */
    public ConformanceRunner(Path dumpDir, boolean roundTrips) {
        this.dumpDir = dumpDir;
        this.roundTrips = roundTrips;
    }

    /** Every folder holding a model.onnx under the given roots, sorted by name. */
    public static List<Path> findCases(List<Path> roots) {
        List<Path> cases = new ArrayList<>();
        for (Path root : roots) {
            if (!Files.isDirectory(root)) {
                throw new GraftException(root + ": not a directory");
            }
            try (Stream<Path> s = Files.walk(root)) {
                s.filter(p -> p.getFileName().toString().equals("model.onnx")).map(Path::getParent).sorted()
                        .forEach(cases::add);
            } catch (IOException e) {
                throw new GraftException(root + ": cannot list (" + e.getMessage() + ")", e);
            }
        }
        return cases;
    }

    public List<ConformanceCase> runAll(List<Path> cases, Consumer<ConformanceCase> progress) {
        List<ConformanceCase> results = new ArrayList<>();
        for (Path c : cases) {
            ConformanceCase r = run(c);
            results.add(r);
            progress.accept(r);
        }
        return results;
    }

    public ConformanceCase run(Path caseDir) {
        long start = System.nanoTime();
        String name = caseDir.getFileName().toString();
        String suite = caseDir.getParent() == null ? "" : caseDir.getParent().getFileName().toString();
        List<String> ops = List.of();
        boolean inScope = false;
        try {
            OnnxModelReader reader = OnnxModelReader.of(caseDir.resolve("model.onnx"));
            ModelProto model = reader.read();
            Set<String> opSet = new TreeSet<>();
            for (NodeProto n : model.getGraph().getNodeList()) {
                String d = ConverterRegistry.normalizeDomain(n.getDomain());
                opSet.add(d.isEmpty() ? n.getOpType() : d + "." + n.getOpType());
            }
            ops = List.copyOf(opSet);
            inScope = SCOPE.containsAll(opSet);
            String skip = skipReason(model, opSet, inScope);
            if (skip != null) {
                return result(name, suite, ConformanceCase.Status.SKIPPED, skip, 0, 0, inScope, ops, start);
            }
            GraftModel imported = new OnnxImporter(registry).importModel(model, reader);
            double maxAbs = 0;
            double maxRel = 0;
            List<Path> sets;
            try (Stream<Path> s = Files.list(caseDir)) {
                sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().toList();
            }
            if (sets.isEmpty()) {
                return result(name, suite, ConformanceCase.Status.SKIPPED, "no test_data_set_* folders", 0, 0, inScope, ops, start);
            }
            List<TestSet> testSets = new ArrayList<>();
            for (Path set : sets) {
                Map<String, INDArray> feeds = new LinkedHashMap<>();
                List<ValueInfoProto> realInputs = realInputs(model);
                for (int i = 0; i < realInputs.size(); i++) {
                    Path f = set.resolve("input_" + i + ".pb");
                    if (!Files.exists(f)) {
                        continue; // optional input left out
                    }
                    feeds.put(realInputs.get(i).getName(), readTensor(f, declaredType(realInputs.get(i))));
                }
                String misfit = misfit(imported, feeds);
                if (misfit != null) {
                    return result(name, suite, ConformanceCase.Status.SKIPPED, misfit, 0, 0, inScope, ops, start);
                }
                String random = randomDropout(model, feeds);
                if (random != null) {
                    return result(name, suite, ConformanceCase.Status.SKIPPED, random, 0, 0, inScope, ops, start);
                }
                Map<String, INDArray> outputs = imported.run(feeds, List.of());
                List<String> outNames = imported.outputNames();
                TestSet testSet = new TestSet(set.getFileName().toString(), feeds, new LinkedHashMap<>(), new LinkedHashMap<>());
                testSets.add(testSet);
                for (int i = 0; i < outNames.size(); i++) {
                    Path f = set.resolve("output_" + i + ".pb");
                    if (!Files.exists(f)) continue;
                    int declared = declaredType(model.getGraph().getOutput(i));
                    INDArray expected = readTensor(f, declared);
                    INDArray actual = outputs.get(outNames.get(i));
                    if (dumpDir != null) {
                        Path dir = dumpDir.resolve(name);
                        if (!set.getFileName().toString().equals("test_data_set_0")) dir = dir.resolve(set.getFileName());
                        Npy.write(actual, dir.resolve("output_" + i + ".npy"));
                    }
                    double rtol = declared == TensorProto.DataType.BFLOAT16_VALUE ? BFLOAT16_RTOL : RTOL;
                    testSet.expected().put(outNames.get(i), expected);
                    testSet.rtol().put(outNames.get(i), rtol);
                    Comparison cmp = compare(actual, expected, rtol, ATOL);
                    maxAbs = Math.max(maxAbs, cmp.maxAbs);
                    maxRel = Math.max(maxRel, cmp.maxRel);
                    if (cmp.problem != null) {
                        return result(name, suite, ConformanceCase.Status.FAILED, set.getFileName() + " output " + i
                                + " ('" + outNames.get(i) + "'): " + cmp.problem, maxAbs, maxRel, inScope, ops, start);
                    }
                }
            }
            ConformanceCase passed = result(name, suite, ConformanceCase.Status.PASSED, null, maxAbs, maxRel, inScope, ops, start);
            if (!roundTrips) {
                return passed;
            }
            Trip viaSource = roundTrip(imported, model, testSets, true);
            Trip lowered = roundTrip(imported, model, testSets, false);
            return passed.withRoundTrips(viaSource.status(), viaSource.reason(), lowered.status(), lowered.reason());
        } catch (GraftException e) {
            String msg = firstLine(e.getMessage());
            if (msg.contains("unsupported op type") && !inScope) {
                return result(name, suite, ConformanceCase.Status.SKIPPED, "op outside scope: " + outOfScope(ops),
                        0, 0, false, ops, start);
            }
            return result(name, suite, ConformanceCase.Status.FAILED, e.getMessage().replace('\n', ' '), 0, 0, inScope, ops, start);
        } catch (RuntimeException | IOException | Error e) {
            return result(name, suite, ConformanceCase.Status.FAILED, e.toString().replace('\n', ' '), 0, 0, inScope, ops, start);
        }
    }

    private record TestSet(String name, Map<String, INDArray> feeds, Map<String, INDArray> expected,
                           Map<String, Double> rtol) {
    }

    /** The outcome of one round trip: a status and, unless it passed, why. */
    private record Trip(ConformanceCase.Status status, String reason) {
        static final Trip PASSED = new Trip(ConformanceCase.Status.PASSED, null);

        static Trip failed(String why) {
            return new Trip(ConformanceCase.Status.FAILED, why);
        }

        static Trip skipped(String why) {
            return new Trip(ConformanceCase.Status.SKIPPED, why);
        }
    }

    /**
     * Exports the imported model (at the case's opset, at least the exporter's default) and runs it in ONNX
     * Runtime on every test set against the expected outputs. Where ONNX Runtime itself cannot run the
     * source model, or computes the same deviation from the reference on it, the case says nothing about
     * the exporter and is skipped with that reason.
     */
    private Trip roundTrip(GraftModel imported, ModelProto source, List<TestSet> sets, boolean useSourceNodes) {
        int opset = Math.max(OnnxExporter.DEFAULT_OPSET, Math.min(OnnxExporter.MAX_OPSET, OnnxModelReader.defaultOpset(source)));
        byte[] bytes;
        try {
            // The case's own inputs are the probe: they are valid for the model (made-up ones may not be).
            bytes = new OnnxExporter(registry).export(imported, OnnxExporter.Options.defaults().withOpset(opset)
                    .withSourceNodes(useSourceNodes).withProbeInputs(sets.get(0).feeds())).model().toByteArray();
        } catch (RuntimeException e) {
            return Trip.failed("export: " + String.valueOf(e.getMessage()).replace('\n', ' '));
        }
        for (TestSet set : sets) {
            for (INDArray f : set.feeds().values()) {
                if (f.dataType() == DataType.UINT16 || f.dataType() == DataType.UINT32 || f.dataType() == DataType.UINT64) {
                    return Trip.skipped("ONNX Runtime's Java API cannot feed " + f.dataType() + " tensors");
                }
            }
        }
        Map<String, Map<String, INDArray>> exported = new LinkedHashMap<>();
        try (OrtRunner ort = new OrtRunner(bytes, "exported model")) {
            for (TestSet set : sets) exported.put(set.name(), runOrt(ort, set));
        } catch (RuntimeException e) {
            String onSource = ortFailsOnSource(source, sets);
            return onSource != null ? Trip.skipped("ONNX Runtime cannot run the source model either: " + onSource)
                    : Trip.failed("ONNX Runtime: " + String.valueOf(e.getMessage()).replace('\n', ' '));
        }
        for (TestSet set : sets) {
            for (Map.Entry<String, INDArray> e : set.expected().entrySet()) {
                INDArray actual = exported.get(set.name()).get(e.getKey());
                Comparison cmp = compare(actual, e.getValue(), set.rtol().get(e.getKey()), ATOL);
                if (cmp.problem == null) continue;
                String problem = set.name() + " output '" + e.getKey() + "': " + cmp.problem;
                INDArray onSource = ortOutputOnSource(source, set, e.getKey());
                if (onSource != null && compare(onSource, e.getValue(), set.rtol().get(e.getKey()), ATOL).problem != null
                        && compare(actual, onSource, set.rtol().get(e.getKey()), ATOL).problem == null) {
                    return Trip.skipped("ONNX Runtime deviates from the reference on the source model too (" + problem
                            + "); the export matches ONNX Runtime on the source");
                }
                return Trip.failed(problem);
            }
        }
        return Trip.PASSED;
    }

    private static Map<String, INDArray> runOrt(OrtRunner ort, TestSet set) {
        Map<String, INDArray> feeds = new LinkedHashMap<>();
        for (String in : ort.inputNames()) {
            if (set.feeds().containsKey(in)) feeds.put(in, set.feeds().get(in));
        }
        return ort.run(feeds, new ArrayList<>(set.expected().keySet()));
    }

    /** Why ONNX Runtime cannot load or run the source model, or null when it can. */
    private static String ortFailsOnSource(ModelProto source, List<TestSet> sets) {
        try (OrtRunner ort = new OrtRunner(source.toByteArray(), "source model")) {
            for (TestSet set : sets) runOrt(ort, set);
            return null;
        } catch (RuntimeException e) {
            return String.valueOf(e.getMessage()).replace('\n', ' ');
        }
    }

    private static INDArray ortOutputOnSource(ModelProto source, TestSet set, String output) {
        try (OrtRunner ort = new OrtRunner(source.toByteArray(), "source model")) {
            return runOrt(ort, set).get(output);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String firstLine(String s) {
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }

    private static String outOfScope(List<String> ops) {
        return ops.stream().filter(o -> !SCOPE.contains(o)).toList().toString();
    }

    private String skipReason(ModelProto model, Set<String> ops, boolean inScope) {
        for (String op : ops) {
            if (op.startsWith("ai.onnx.preview.training")) return "training op: " + op;
        }
        if (model.getGraph().getNodeList().stream().anyMatch(n -> n.getAttributeList().stream().anyMatch(
                a -> a.hasG() || a.getGraphsCount() > 0))) {
            return "control flow (subgraph attribute): " + outOfScope(List.copyOf(ops));
        }
        List<ValueInfoProto> values = new ArrayList<>(realInputs(model));
        values.addAll(model.getGraph().getOutputList());
        for (ValueInfoProto v : values) {
            if (!v.getType().hasTensorType()) {
                return "non-tensor type (" + v.getType().getValueCase() + ") for '" + v.getName() + "'";
            }
            int elem = v.getType().getTensorType().getElemType();
            DataType t;
            try {
                t = OnnxTensors.toNd4j(elem, "");
            } catch (GraftException e) {
                return "non-float type: " + TensorProto.DataType.forNumber(elem) + " for '" + v.getName() + "'";
            }
            if (!COMPARABLE.contains(t)) {
                return "unsupported element type " + t + " for '" + v.getName() + "'";
            }
        }
        return null;
    }

    private static List<ValueInfoProto> realInputs(ModelProto model) {
        Set<String> inits = new TreeSet<>();
        model.getGraph().getInitializerList().forEach(t -> inits.add(t.getName()));
        return model.getGraph().getInputList().stream().filter(v -> !inits.contains(v.getName())).toList();
    }

    private static int declaredType(ValueInfoProto v) {
        return v.getType().hasTensorType() ? v.getType().getTensorType().getElemType() : 0;
    }

    /**
     * Reads a test tensor. The suite (onnx 1.12) stores bfloat16 tensors with data_type UINT16 holding the raw
     * bits; when the model declares BFLOAT16 there, the bits are read as bfloat16.
     */
    private static INDArray readTensor(Path f, int declaredType) throws IOException {
        TensorProto t = TensorProto.parseFrom(Files.readAllBytes(f));
        if (declaredType == TensorProto.DataType.BFLOAT16_VALUE && t.getDataType() == TensorProto.DataType.UINT16_VALUE) {
            t = t.toBuilder().setDataType(TensorProto.DataType.BFLOAT16_VALUE).build();
        }
        return OnnxTensors.toArray(t, null, f.toString());
    }

    /**
     * A test input whose shape contradicts the model's declared input shape (a few cases of the onnx 1.12
     * suite have them): ONNX Runtime refuses such a feed, and so does graft.
     */
    private static String misfit(GraftModel model, Map<String, INDArray> feeds) {
        for (dev.graft.TensorInfo in : model.inputs()) {
            INDArray v = feeds.get(in.name());
            if (v == null || v.isEmpty()) continue;
            if (!in.accepts(v.shape())) {
                return "test data does not fit the model: input '" + in.name() + "' is " + java.util.Arrays.toString(v.shape())
                        + ", the model declares " + in.shapeText();
            }
        }
        return null;
    }

    /**
     * A training-mode Dropout with a non-zero ratio draws its mask from the test generator's random numbers
     * (numpy's), which no other backend reproduces: such a case cannot be compared, only skipped.
     */
    private static String randomDropout(ModelProto model, Map<String, INDArray> feeds) {
        Map<String, TensorProto> inits = new java.util.HashMap<>();
        model.getGraph().getInitializerList().forEach(t -> inits.put(t.getName(), t));
        for (NodeProto n : model.getGraph().getNodeList()) {
            if (!n.getOpType().equals("Dropout") || n.getInputCount() < 3 || n.getInput(2).isEmpty()) continue;
            INDArray training = valueOf(n.getInput(2), feeds, inits);
            if (training == null || training.getDouble(0) == 0) continue;
            INDArray ratio = n.getInputCount() > 1 && !n.getInput(1).isEmpty() ? valueOf(n.getInput(1), feeds, inits) : null;
            double r = ratio == null ? 0.5 : ratio.getDouble(0);
            if (r > 0) {
                return "random output: training-mode Dropout (ratio " + r + ") draws its mask from the test generator's RNG";
            }
        }
        return null;
    }

    private static INDArray valueOf(String name, Map<String, INDArray> feeds, Map<String, TensorProto> inits) {
        if (feeds.containsKey(name)) return feeds.get(name);
        TensorProto t = inits.get(name);
        return t == null ? null : OnnxTensors.toArray(t, null, name);
    }

    record Comparison(double maxAbs, double maxRel, String problem) {
    }

    /** Compares shape, element type and values (see {@link Agreement}). */
    public static Comparison compare(INDArray actual, INDArray expected, double rtol, double atol) {
        if (actual != null && actual.dataType() != expected.dataType()) {
            return new Comparison(0, 0, "element type " + actual.dataType() + ", expected " + expected.dataType());
        }
        Agreement a = Agreement.of(actual, expected, atol, rtol);
        return new Comparison(a.maxAbs(), a.maxRel(), a.problem());
    }

    private static ConformanceCase result(String name, String suite, ConformanceCase.Status status, String reason,
                                          double maxAbs, double maxRel, boolean inScope, List<String> ops, long start) {
        return new ConformanceCase(name, suite, status, reason, maxAbs, maxRel, inScope, ops,
                (System.nanoTime() - start) / 1_000_000);
    }
}
