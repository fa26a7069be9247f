package dev.graft.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.io.Npy;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Models exported by PyTorch's own exporter (tests-resources/scripts/make_torch_fixtures.py): graft's import
 * must reproduce PyTorch's outputs at batch 1 and batch 3 from one import (the batch dim is dynamic).
 * Tolerance 1e-4 absolute: float32 sums over a few thousand terms reorder differently in PyTorch and ND4J,
 * which moves results by up to ~1e-5 on these outputs (|y| < 10).
 */
class RealModelsTest {

    static final Path MODELS = Path.of("tests-resources/models");
    static final double ATOL = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"resnet_small", "mobilenet_v2", "squeezenet", "mlp_layernorm_gelu", "transformer_encoder",
            "deep_mlp_500"})
    void matchesPyTorchAtBatch1And3(String name) {
        Path dir = MODELS.resolve(name);
        GraftModel model = Graft.load(dir.resolve("model.onnx"));
        assertEquals(List.of("input"), model.inputNames());
        assertEquals(-1, model.inputs().get(0).shape()[0], "batch dimension stays dynamic");
        for (int batch : new int[]{1, 3}) {
            INDArray x = Npy.read(dir.resolve("input_b" + batch + ".npy"));
            INDArray expected = Npy.read(dir.resolve("output_b" + batch + ".npy"));
            INDArray y = model.run(Map.of("input", x), List.of()).get("output");
            assertArrayEquals(expected.shape(), y.shape(), name + " batch " + batch + " shape");
            Agreement a = Agreement.of(y, expected, ATOL, 0);
            assertTrue(a.within(), name + " batch " + batch + ": max abs error " + a.maxAbs() + " > " + ATOL);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet_small", "mobilenet_v2", "squeezenet", "mlp_layernorm_gelu", "transformer_encoder"})
    void weightsAreTrainableVariablesAndMatchOnnxRuntime(String name) {
        Path file = MODELS.resolve(name).resolve("model.onnx");
        GraftModel model = Graft.load(file);
        assertTrue(model.parameterCount() > 1000, "weights imported as variables: " + model.parameterCount());
        for (String p : model.parameterNames()) {
            assertEquals(VariableType.VARIABLE, model.sameDiff().getVariable(p).getVariableType());
        }
        INDArray x = Npy.read(MODELS.resolve(name).resolve("input_b3.npy"));
        try (OrtRunner ort = new OrtRunner(file)) {
            INDArray reference = ort.run(Map.of("input", x), List.of("output")).get("output");
            INDArray y = model.run(Map.of("input", x), List.of()).get("output");
            Agreement a = Agreement.of(y, reference, ATOL, 0);
            assertTrue(a.within(), name + ": SameDiff vs ONNX Runtime max abs error " + a.maxAbs());
        }
    }
}
