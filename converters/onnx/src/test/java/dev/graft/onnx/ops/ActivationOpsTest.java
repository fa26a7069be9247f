package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Activations (Relu, PRelu, Elu, ..., Clip, Softmax, LogSoftmax): backend suite and graft's own cases. */
class ActivationOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("Relu", "Sigmoid", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu",
                "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Gelu", "Clip", "Softmax", "LogSoftmax");
    }

    /** graft's own cases for semantics the backend suite does not cover (tests-resources/scripts/make_onnx_cases_core.py). */
    @Test
    void graftCasesPass() {
        assertEquals(List.of(), BackendSuite.graftCaseProblems("activation"));
    }
}
