package dev.graft.cli;

import ai.onnx.proto.OnnxMl.NodeProto;
import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.TensorInfo;
import dev.graft.onnx.OnnxModelReader;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Run a model two ways on the same inputs and compare every output.",
                "Without --against: the model in SameDiff (graft's import) vs its own engine (ONNX Runtime for "
                        + ".onnx, TensorFlow for a SavedModel or GraphDef).",
                "With --against SOURCE: the ONNX model (e.g. an export) in ONNX Runtime vs the source model "
                        + "(an .onnx in ONNX Runtime, a TensorFlow model in TensorFlow)."})
final class VerifyCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "The ONNX model, or a TensorFlow SavedModel / GraphDef.")
    Path model;

    @Option(names = "--signature", paramLabel = "KEY", description = "SavedModel signature (default: serving_default).")
    String signature;

    @Option(names = "--output", paramLabel = "NAME", description = "An output to compare (repeatable; default: all; "
            + "for a TensorFlow model a signature key or tensor name).")
    List<String> outputs = new ArrayList<>();

    @Option(names = "--against", paramLabel = "SOURCE", description = "The model MODEL was made from.")
    Path against;

    @Option(names = "--per-tensor", description = "Also compare every intermediate tensor the two graphs share by name "
            + "and name the first that diverges.")
    boolean perTensor;

    @Option(names = "--input", paramLabel = "NAME=FILE.npy", description = "An input array (repeatable); missing inputs are seeded random.")
    List<String> inputs = new ArrayList<>();

    @Option(names = "--batch", description = "Size of the first dynamic dimension of random inputs (default: ${DEFAULT-VALUE}).", defaultValue = "2")
    int batch;

    @Option(names = "--seed", description = "Seed of random inputs (default: ${DEFAULT-VALUE}).", defaultValue = "7")
    long seed;

    @Option(names = "--atol", description = "Absolute tolerance (default: ${DEFAULT-VALUE}).", defaultValue = "1e-4")
    double atol;

    @Option(names = "--rtol", description = "Relative tolerance (default: ${DEFAULT-VALUE}).", defaultValue = "1e-3")
    double rtol;

    @Option(names = "--show", description = "How many diverging tensors --per-tensor lists (default: ${DEFAULT-VALUE}).",
            defaultValue = "10")
    int show;

    @Spec
    CommandSpec spec;

    /** One way of computing the model's values: ONNX Runtime on a file, or SameDiff on an imported model. */
    private interface Engine extends AutoCloseable {
        String label();

        /** Values this engine can give by name, beyond the model outputs (empty unless exposed). */
        Set<String> valueNames();

        Map<String, INDArray> values(Map<String, INDArray> feeds, List<String> names);

        @Override
        void close();
    }

    private static Engine ort(Path file, Set<String> expose) {
        OrtRunner runner = expose.isEmpty() ? new OrtRunner(file) : OrtRunner.exposing(file, expose);
        Set<String> readable = new LinkedHashSet<>(runner.readableOutputs());
        return new Engine() {
            public String label() {
                return "onnxruntime(" + file.getFileName() + ")";
            }

            public Set<String> valueNames() {
                return readable;
            }

            public Map<String, INDArray> values(Map<String, INDArray> feeds, List<String> names) {
                Map<String, INDArray> f = new HashMap<>();
                for (String in : runner.inputNames()) if (feeds.containsKey(in)) f.put(in, feeds.get(in));
                return runner.run(f, names.stream().filter(readable::contains).toList());
            }

            public void close() {
                runner.close();
            }
        };
    }

    private static Engine sameDiff(GraftModel m, Path file) {
        Set<String> names = new LinkedHashSet<>(m.outputNames());
        for (SDVariable v : m.sameDiff().variables()) {
            if (v.getVariableType() == VariableType.ARRAY) names.add(v.name());
        }
        return new Engine() {
            public String label() {
                return "samediff(" + file.getFileName() + ")";
            }

            public Set<String> valueNames() {
                return names;
            }

            public Map<String, INDArray> values(Map<String, INDArray> feeds, List<String> wanted) {
                Map<String, INDArray> f = new HashMap<>();
                for (String in : m.inputNames()) if (feeds.containsKey(in)) f.put(in, feeds.get(in));
                return m.run(f, wanted.stream().filter(names::contains).toList());
            }

            public void close() {
            }
        };
    }

    private static Engine tensorflow(Path file, dev.graft.LoadOptions options) {
        dev.graft.tensorflow.TfRunner runner = dev.graft.tensorflow.TfRunner.open(file, options);
        Set<String> names = new LinkedHashSet<>(runner.outputNames());
        return new Engine() {
            public String label() {
                return "tensorflow(" + file.getFileName() + ")";
            }

            public Set<String> valueNames() {
                return names;
            }

            public Map<String, INDArray> values(Map<String, INDArray> feeds, List<String> wanted) {
                Map<String, INDArray> f = new HashMap<>();
                for (String in : runner.inputNames()) if (feeds.containsKey(in)) f.put(in, feeds.get(in));
                return runner.run(f, wanted.stream().filter(names::contains).toList());
            }

            public void close() {
                runner.close();
            }
        };
    }

    private static boolean isOnnx(Path p) {
        return Files.isRegularFile(p) && p.getFileName().toString().toLowerCase().endsWith(".onnx");
    }

    @Override
    public Integer call() {
        if (dev.graft.Graft.isTensorflow(model)) return verifyTensorflowImport();
        PrintWriter out = spec.commandLine().getOut();
        // Node outputs of MODEL in graph order: the order in which a divergence is looked for.
        List<NodeProto> modelNodes = perTensor ? OnnxModelReader.of(model).read().getGraph().getNodeList() : List.of();
        Set<String> expose = new LinkedHashSet<>();
        Map<String, NodeProto> producer = new HashMap<>();
        for (NodeProto n : modelNodes) {
            for (String o : n.getOutputList()) {
                if (o.isEmpty()) continue;
                expose.add(o);
                producer.put(o, n);
            }
        }
        List<String> outputNames;
        try (OrtRunner plain = new OrtRunner(model)) {
            outputNames = outputs.isEmpty() ? plain.outputNames() : outputs;
        }
        dev.graft.LoadOptions sourceOptions = new dev.graft.LoadOptions(signature, List.of(), List.of());
        try (Engine candidate = against == null ? sameDiff(Graft.load(model), model) : ort(model, expose);
             Engine reference = against == null ? ort(model, expose)
                     : isOnnx(against) ? ort(against, expose)
                     : Graft.isTensorflow(against) ? tensorflow(against, sourceOptions.withOutputs(outputNames))
                     : sameDiff(Graft.load(against), against)) {
            List<TensorInfo> infos;
            try (OrtRunner r = new OrtRunner(model)) {
                infos = r.inputInfos();
            }
            Map<String, INDArray> feeds = Inputs.completeRandom(infos, Inputs.parse(inputs), batch, seed);
            return compare(out, candidate, reference, feeds, outputNames, expose, producer);
        }
    }

    /** A TensorFlow model: graft's SameDiff import vs TensorFlow itself, output by output. */
    private int verifyTensorflowImport() {
        if (against != null) {
            throw new dev.graft.GraftException("--against compares an ONNX model with its source; to check a TensorFlow "
                    + "import give the TensorFlow model alone, to check an export: graft verify OUT.onnx --against " + model);
        }
        if (perTensor) throw new dev.graft.GraftException("--per-tensor compares ONNX graphs; it does not apply to " + model);
        dev.graft.LoadOptions options = new dev.graft.LoadOptions(signature, outputs, List.of());
        GraftModel m = Graft.load(model, options);
        try (Engine candidate = sameDiff(m, model); Engine reference = tensorflow(model, options)) {
            Map<String, INDArray> feeds = Inputs.completeRandom(m.inputs(), Inputs.parse(inputs), batch, seed);
            return compare(spec.commandLine().getOut(), candidate, reference, feeds, m.outputNames(), Set.of(), Map.of());
        }
    }

    private int compare(PrintWriter out, Engine candidate, Engine reference, Map<String, INDArray> feeds,
                        List<String> outputNames, Set<String> expose, Map<String, NodeProto> producer) {
        {
            out.printf("comparing %s with %s%n", candidate.label(), reference.label());

            boolean ok = true;
            Map<String, INDArray> mine = candidate.values(feeds, outputNames);
            List<String> shared = outputNames.stream().filter(reference.valueNames()::contains).toList();
            Map<String, INDArray> theirs = reference.values(feeds, shared);
            out.printf("%-40s %-18s %12s %12s  %s%n", "output", "shape", "max abs err", "max rel err", "verdict");
            for (String name : outputNames) {
                INDArray ref = theirs.get(name);
                if (ref == null) {
                    out.printf("%-40s %-18s %12s %12s  %s%n", name, "", "", "", "not in " + reference.label());
                    ok = false;
                    continue;
                }
                Agreement a = Agreement.of(mine.get(name), ref, atol, rtol);
                ok &= a.within();
                out.printf("%-40s %-18s %12.3g %12.3g  %s%n", name, java.util.Arrays.toString(ref.shape()),
                        a.maxAbs(), a.maxRel(), a.within() ? "ok" : "DIFFERS" + (a.problem() == null ? "" : " (" + a.problem() + ")"));
            }
            if (perTensor) {
                perTensor(out, candidate, reference, feeds, expose, producer);
            }
            out.printf("tolerance: |a - b| <= %.1g + %.1g * |b|%n", atol, rtol);
            out.flush();
            return ok ? GraftCli.OK : GraftCli.CHECK_FAILED;
        }
    }

    private void perTensor(PrintWriter out, Engine candidate, Engine reference, Map<String, INDArray> feeds,
                           Set<String> order, Map<String, NodeProto> producer) {
        List<String> shared = new ArrayList<>();
        for (String name : order) {
            if (candidate.valueNames().contains(name) && reference.valueNames().contains(name)) shared.add(name);
        }
        if (shared.isEmpty()) {
            out.println("per tensor: the two graphs share no intermediate tensor name");
            return;
        }
        Map<String, INDArray> mine = candidate.values(feeds, shared);
        Map<String, INDArray> theirs = reference.values(feeds, shared);
        int agree = 0;
        List<String> diverging = new ArrayList<>();
        for (String name : shared) {
            INDArray a = mine.get(name);
            INDArray b = theirs.get(name);
            if (a == null || b == null) continue;
            Agreement ag = Agreement.of(a, b, atol, rtol);
            if (ag.within()) {
                agree++;
            } else {
                NodeProto n = producer.get(name);
                diverging.add(String.format("%s (from node '%s' (%s)): max abs err %.3g%s", name,
                        n == null ? "?" : n.getName(), n == null ? "?" : n.getOpType(), ag.maxAbs(),
                        ag.problem() == null ? "" : ", " + ag.problem()));
            }
        }
        out.printf("per tensor: %d shared tensors compared, %d agree, %d diverge%n", agree + diverging.size(), agree,
                diverging.size());
        if (!diverging.isEmpty()) {
            out.println("first divergence: " + diverging.get(0));
            for (int i = 1; i < Math.min(show, diverging.size()); i++) out.println("  then: " + diverging.get(i));
        }
    }
}
