package dev.graft.cli;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Run SameDiff and ONNX Runtime on the same inputs and compare every output.")
final class VerifyCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "The ONNX model.")
    Path model;

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

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        GraftModel m = Graft.load(model);
        Map<String, INDArray> feeds = Inputs.forModel(m, inputs, batch, seed);
        Map<String, INDArray> sameDiff = m.run(feeds, List.of());
        Map<String, INDArray> reference;
        try (OrtRunner ort = new OrtRunner(model)) {
            reference = ort.run(feeds, m.outputNames());
        }
        boolean ok = true;
        out.printf("%-40s %-18s %12s %12s  %s%n", "output", "shape", "max abs err", "max rel err", "verdict");
        for (String name : m.outputNames()) {
            Agreement a = Agreement.of(sameDiff.get(name), reference.get(name), atol, rtol);
            ok &= a.within();
            out.printf("%-40s %-18s %12.3g %12.3g  %s%n", name, java.util.Arrays.toString(reference.get(name).shape()),
                    a.maxAbs(), a.maxRel(), a.within() ? "ok" : "DIFFERS" + (a.problem() == null ? "" : " (" + a.problem() + ")"));
        }
        out.printf("tolerance: |samediff - onnxruntime| <= %.1g + %.1g * |onnxruntime|%n", atol, rtol);
        out.flush();
        return ok ? GraftCli.OK : GraftCli.CHECK_FAILED;
    }
}
