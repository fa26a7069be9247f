package dev.graft.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.io.Npy;
import dev.graft.verify.Agreement;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An imported graph must train like its source: SameDiff's gradients of sum(output * r) with respect to
 * every weight equal PyTorch's (tests-resources/scripts/make_torch_fixtures.py records them, eval mode).
 * Tolerance: |g - g_torch| <= 1e-4 * max|g_torch| + 1e-3 * |g_torch| per weight tensor. Backpropagation
 * through a few dozen float32 layers reorders sums differently in the two engines; the scale term keeps the
 * check meaningful for tensors whose gradients are all small.
 */
class TrainabilityTest {

    @ParameterizedTest
    @ValueSource(strings = {"resnet_small", "mobilenet_v2", "mlp_layernorm_gelu", "transformer_encoder"})
    void weightGradientsMatchPyTorch(String name) {
        Path dir = RealModelsTest.MODELS.resolve(name);
        GraftModel model = Graft.load(dir.resolve("model.onnx"));
        SameDiff sd = model.sameDiff();
        INDArray x = Npy.read(dir.resolve("input_b3.npy"));
        INDArray r = Npy.read(dir.resolve("grad_weights_b3.npy"));
        SDVariable weights = sd.constant("grad_weights", r);
        SDVariable loss = sd.getVariable("output").mul(weights).sum();
        sd.setLossVariables(loss);

        Map<String, INDArray> reference = Npy.readNpz(dir.resolve("grads_b3.npz"));
        List<String> compared = new ArrayList<>();
        for (String p : reference.keySet()) {
            if (sd.hasVariable(p)) compared.add(p);
        }
        long referenceElements = reference.values().stream().mapToLong(INDArray::length).sum();
        long comparedElements = compared.stream().mapToLong(p -> reference.get(p).length()).sum();
        // PyTorch's exporter may store a weight under a new name (e.g. transposed for MatMul); the rest must match.
        assertTrue(comparedElements >= 0.8 * referenceElements, name + ": only " + comparedElements + " of "
                + referenceElements + " weight elements found under their PyTorch names: " + compared);

        Map<String, INDArray> grads = sd.calculateGradients(Map.of("input", x), compared);
        List<String> problems = new ArrayList<>();
        for (String p : compared) {
            INDArray expected = reference.get(p);
            double scale = expected.amaxNumber().doubleValue();
            Agreement a = Agreement.of(grads.get(p), expected, 1e-4 * scale, 1e-3);
            if (!a.within()) problems.add(p + ": " + a.problem());
        }
        assertTrue(problems.isEmpty(), name + ": " + problems);
    }
}
