package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.onnx.conformance.ConformanceCase;
import dev.graft.onnx.conformance.ConformanceRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Op sets for the activation, elementwise and Gemm family tests. Their backend cases often also use ops
 * of other families; a case is checked only when all its ops are in {@link #ALLOWED}: these three
 * families plus the families that already existed when they were written (so cases that also need, say,
 * ReduceMax or Slice are left to those families' tests).
 */
final class CoreOps {

    static final Set<String> ACTIVATION = Set.of("Relu", "Sigmoid", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu",
            "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Gelu", "Clip", "Softmax", "LogSoftmax");

    static final Set<String> ELEMENTWISE = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Abs",
            "Neg", "Reciprocal", "Floor", "Ceil", "Erf", "Sin", "Cos", "Tanh", "Max", "Min", "Sum", "Mean");

    static final Set<String> GEMM = Set.of("Gemm", "MatMul");

    /** Ops of families that existed before: convolution, pooling, BatchNormalization, shape basics. */
    static final Set<String> EXISTING = Set.of("Conv", "ConvTranspose", "MaxPool", "AveragePool",
            "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "Identity", "Dropout", "Constant", "Cast",
            "Shape", "Size", "Reshape", "Flatten", "Transpose", "Concat", "Unsqueeze", "Squeeze");

    static final Set<String> ALLOWED;

    static {
        Set<String> all = new HashSet<>(ACTIVATION);
        all.addAll(ELEMENTWISE);
        all.addAll(GEMM);
        all.addAll(EXISTING);
        ALLOWED = Set.copyOf(all);
    }

    /** graft's own cases (made by tests-resources/scripts/make_onnx_cases_core.py), one folder per family. */
    static final Path GRAFT_CASES = Path.of("tests-resources/onnx-cases");

    private CoreOps() {
    }

    /** Runs every case in the family's folder of graft cases; returns each one that did not pass. */
    static List<String> checkGraftCases(String family) {
        Path dir = GRAFT_CASES.resolve(family);
        assertTrue(Files.isDirectory(dir), dir.toAbsolutePath() + " is missing");
        ConformanceRunner runner = new ConformanceRunner(null);
        List<Path> cases = ConformanceRunner.findCases(List.of(dir));
        assertTrue(!cases.isEmpty(), "no case in " + dir);
        List<String> problems = new ArrayList<>();
        for (Path c : cases) {
            ConformanceCase r = runner.run(c);
            if (r.status() != ConformanceCase.Status.PASSED) {
                problems.add(family + "/" + r.name() + ": " + r.status() + " " + r.reason());
            }
        }
        return problems;
    }
}
