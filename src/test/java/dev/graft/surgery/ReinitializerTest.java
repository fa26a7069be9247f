package dev.graft.surgery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftModel;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** {@link GraftModel#reinitialize(long)} on the bundled PyTorch CNN (conv 8 - BN - conv 16 - BN - dense 64, cut at its classifier). */
class ReinitializerTest {

    private static final Path MODEL = Path.of("models/mnist04_cnn_torch.onnx");

    private static GraftModel trunk() {
        GraftModel m = Graft.load(MODEL);
        return m.cut("auto");
    }

    private static Map<String, INDArray> weights(GraftModel m) {
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (String n : m.parameterNames()) w.put(n, m.sameDiff().getArrForVarName(n).dup());
        return w;
    }

    @Test
    void changesEveryTrunkWeightKeepsTheHeadAndIsSeeded() {
        GraftModel model = trunk().attachHead(HeadSpec.softmax("digit", 5));
        Set<String> head = new HashSet<>(model.heads().get(0).variables());
        Map<String, INDArray> before = weights(model);
        Map<String, String> roles = Reinitializer.reinitialize(model, 42);
        Map<String, INDArray> after = weights(model);

        // BatchNormalization inputs 1-4 (scale, bias, mean, variance), from the graph, not from the code under test.
        Map<String, Double> bnValue = new LinkedHashMap<>();
        for (GraftModel.SourceNode n : model.sourceNodes()) {
            if (n.opType().equals("BatchNormalization")) {
                bnValue.put(n.inputs().get(1), 1.0);
                bnValue.put(n.inputs().get(2), 0.0);
                bnValue.put(n.inputs().get(3), 0.0);
                bnValue.put(n.inputs().get(4), 1.0);
            }
        }
        assertEquals(8, bnValue.size(), "two BatchNormalization nodes");
        int trunkWeights = 0;
        int heWeights = 0;
        for (String name : before.keySet()) {
            if (head.contains(name)) {
                assertEquals(before.get(name), after.get(name), "head weight " + name + " must stay");
                continue;
            }
            trunkWeights++;
            assertNotEquals(before.get(name), after.get(name), "trunk weight " + name + " did not change");
            INDArray a = after.get(name);
            if (bnValue.containsKey(name)) {
                assertEquals(bnValue.get(name), a.minNumber().doubleValue(), 0.0, name);
                assertEquals(bnValue.get(name), a.maxNumber().doubleValue(), 0.0, name);
            } else if (a.rank() == 1) {
                assertEquals(0.0, a.amaxNumber().doubleValue(), 0.0, "bias " + name);
            } else {
                // fan_in from the architecture on the model card: conv1 W [8,1,3,3]: 9; conv2 W [16,8,3,3]: 72;
                // dense W [64,784] (PyTorch's Linear, Gemm transB=1): 784.
                long[] s = a.shape();
                double fanIn = s.length == 4 ? s[1] * s[2] * s[3] : 784;
                if (s.length == 2) assertEquals(784, s[1], name);
                double expected = Math.sqrt(2 / fanIn);
                double std = a.stdNumber().doubleValue();
                double mean = a.meanNumber().doubleValue();
                // Sample std of n normal draws has relative standard error ~1/sqrt(2n): 8 % at n = 72 (conv1),
                // under 1 % for the others; 30 % is more than 3.5 standard errors everywhere.
                assertEquals(expected, std, 0.3 * expected, name + " std");
                assertEquals(0, mean, 4 * expected / Math.sqrt(a.length()), name + " mean");
                heWeights++;
            }
        }
        // conv1 W, B; conv2 W, B; 2 x BN (scale, bias, mean, variance); dense W, B.
        assertEquals(14, trunkWeights);
        assertEquals(3, heWeights);
        assertEquals(trunkWeights, roles.size());

        GraftModel same = trunk().attachHead(HeadSpec.softmax("digit", 5));
        same.reinitialize(42);
        GraftModel other = trunk().attachHead(HeadSpec.softmax("digit", 5));
        other.reinitialize(43);
        Map<String, INDArray> sameW = weights(same);
        Map<String, INDArray> otherW = weights(other);
        int differ = 0;
        for (String name : after.keySet()) {
            assertEquals(after.get(name), sameW.get(name), "seed 42 twice: " + name);
            if (!after.get(name).equals(otherW.get(name))) differ++;
        }
        assertEquals(3, differ, "seed 43 draws other conv and dense weights (biases and BN are fixed values)");
    }
}
