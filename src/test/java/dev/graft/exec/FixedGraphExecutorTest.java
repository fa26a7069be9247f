package dev.graft.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.io.Npy;
import dev.graft.surgery.SameDiffState;
import dev.graft.verify.Agreement;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The executor against SameDiff's own session on real imported models (the PyTorch fixtures that record
 * weight gradients): the same outputs and weight gradients, call after call, at two batch sizes.
 */
class FixedGraphExecutorTest {

    private static final Path MODELS = Path.of("tests-resources/models");

    /** An imported model with loss sum(output * r) and its gradient function; r as in the fixture. */
    private record Setup(SameDiff sd, SameDiff gradients, List<String> weights, List<String> outputs, INDArray r) {
    }

    private static Setup setup(String name) {
        SameDiffState.useExactSessions();
        Path dir = MODELS.resolve(name);
        SameDiff sd = Graft.load(dir.resolve("model.onnx")).sameDiff();
        INDArray r = Npy.read(dir.resolve("grad_weights_b3.npy"));
        // r as a placeholder, so that a batch of another size can be fed with its own r.
        SDVariable weightsOfOutput = sd.placeHolder("graft_test_r", DataType.FLOAT, r.shape());
        sd.setLossVariables(sd.getVariable("output").mul(weightsOfOutput).sum("graft_test_loss"));
        SameDiffState.reset(sd);
        SameDiffState.createGradientFunction(sd);
        List<String> weights = new ArrayList<>();
        List<String> outputs = new ArrayList<>(List.of("output", "graft_test_loss"));
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE && v.getGradient() != null) {
                weights.add(v.name());
                outputs.add(v.getGradient().name());
            }
        }
        return new Setup(sd, sd.getFunction("grad"), weights, outputs, r);
    }

    private static Map<String, INDArray> feeds(Path dir, String batch, INDArray r) {
        INDArray x = Npy.read(dir.resolve("input_" + batch + ".npy"));
        INDArray rows = r.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, x.size(0))).dup();
        return Map.of("input", x, "graft_test_r", rows);
    }

    /**
     * With KernelShortcuts the sums of broadcast gradients run in another order than ND4J's kernel:
     * |a - b| <= 1e-5 * max|b| + 1e-5 * |b| per tensor, float32 rounding of sums of a few thousand terms.
     * Without them every op is ND4J's own kernel on the same inputs, so the results must be identical.
     */
    @ParameterizedTest
    @ValueSource(strings = {"resnet_small", "mobilenet_v2", "mlp_layernorm_gelu", "transformer_encoder"})
    void outputsAndGradientsEqualSameDiffsSession(String name) {
        Setup s = setup(name);
        Path dir = MODELS.resolve(name);
        FixedGraphExecutor fast = FixedGraphExecutor.compile(s.gradients(), s.outputs()).orElseThrow();
        FixedGraphExecutor plain = FixedGraphExecutor.compile(s.gradients(), s.outputs()).orElseThrow().withoutShortcuts();
        for (String batch : List.of("b3", "b1", "b3")) { // the batch size changes, then comes back
            Map<String, INDArray> feeds = feeds(dir, batch, s.r());
            List<String> asked = s.outputs().stream().filter(o -> !o.equals("graft_test_loss")).toList();
            Map<String, INDArray> expected = s.gradients().output(feeds, asked);
            expected.put("graft_test_loss", s.gradients().output(feeds, List.of("graft_test_loss")).get("graft_test_loss"));
            Map<String, INDArray> exact = plain.run(feeds);
            Map<String, INDArray> approx = fast.run(feeds);
            Map<String, INDArray> again = fast.run(feeds);
            List<String> problems = new ArrayList<>();
            for (String o : s.outputs()) {
                INDArray e = expected.get(o);
                if (!java.util.Arrays.equals(e.dup().data().asFloat(), exact.get(o).dup().data().asFloat())) {
                    problems.add(o + " without shortcuts differs from SameDiff's");
                }
                double scale = e.amaxNumber().doubleValue();
                Agreement a = Agreement.of(approx.get(o), e, 1e-5 * scale, 1e-5);
                if (!a.within()) problems.add(o + ": " + a.problem());
                // A second call on the reused arrays gives the same bits.
                if (!java.util.Arrays.equals(approx.get(o).dup().data().asFloat(), again.get(o).dup().data().asFloat())) {
                    problems.add(o + " changed on the second call");
                }
            }
            assertTrue(problems.isEmpty(), name + " " + batch + ": " + problems);
        }
    }

    @Test
    void gradientsEqualPyTorchs() {
        // TrainabilityTest checks SameDiff's session against PyTorch; the executor must pass the same check.
        Setup s = setup("mobilenet_v2");
        Path dir = MODELS.resolve("mobilenet_v2");
        Map<String, INDArray> reference = Npy.readNpz(dir.resolve("grads_b3.npz"));
        FixedGraphExecutor exec = FixedGraphExecutor.compile(s.gradients(), s.outputs()).orElseThrow();
        Map<String, INDArray> got = exec.run(feeds(dir, "b3", s.r()));
        int compared = 0;
        List<String> problems = new ArrayList<>();
        for (String w : s.weights()) {
            if (!reference.containsKey(w)) continue;
            INDArray expected = reference.get(w);
            Agreement a = Agreement.of(got.get(s.sd().getVariable(w).getGradient().name()), expected,
                    1e-4 * expected.amaxNumber().doubleValue(), 1e-3);
            if (!a.within()) problems.add(w + ": " + a.problem());
            compared++;
        }
        assertTrue(compared >= 100, "only " + compared + " weights compared");
        assertTrue(problems.isEmpty(), problems.toString());
    }

    @Test
    void returnedArraysBelongToTheCaller() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 4);
        SDVariable w = sd.var("w", Nd4j.createFromArray(new float[][]{{1, 2}, {3, 4}, {5, 6}, {7, 8}}));
        SDVariable h = x.mmul(w);
        sd.identity("h1", h);
        sd.identity("h2", h);
        FixedGraphExecutor exec = FixedGraphExecutor.compile(sd, List.of("h1", "h2", "w")).orElseThrow();
        INDArray in = Nd4j.rand(DataType.FLOAT, 3, 4);
        Map<String, INDArray> first = exec.run(Map.of("x", in));
        INDArray expected = first.get("h1").dup();
        assertNotSame(first.get("h1"), first.get("h2"), "two outputs share an array");
        assertNotSame(sd.getArrForVarName("w"), first.get("w"), "a weight handed out as itself");
        first.get("h1").assign(-1);
        first.get("w").assign(0);
        Map<String, INDArray> second = exec.run(Map.of("x", in));
        assertEquals(expected, second.get("h1"));
        assertEquals(expected, first.get("h2"), "changing one output changed another");
        assertEquals(expected, in.mmul(sd.getArrForVarName("w")));
    }

    @Test
    void opsOfFixedWeightsRunOnceUntilRefreshed() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3);
        SDVariable frozen = sd.var("frozen", Nd4j.createFromArray(1f, 2f, 3f));
        x.mul(sd.math().exp(frozen)).sum("y", 1);
        FixedGraphExecutor exec = FixedGraphExecutor.compile(sd, List.of("y"), Set.of("frozen")).orElseThrow();
        INDArray in = Nd4j.ones(DataType.FLOAT, 2, 3);
        float before = exec.run(Map.of("x", in)).get("y").getFloat(0);
        assertEquals(Math.exp(1) + Math.exp(2) + Math.exp(3), before, 1e-4);
        sd.getArrForVarName("frozen").assign(0);
        // The promise was broken: the executor still uses exp(frozen) of the first call, as documented.
        assertEquals(before, exec.run(Map.of("x", in)).get("y").getFloat(0));
        exec.refreshFixed();
        assertEquals(3f, exec.run(Map.of("x", in)).get("y").getFloat(0), 1e-6);
    }

    @Test
    void graphsWithControlFlowAreLeftToSameDiff() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, 2);
        SDVariable positive = x.sum().gt(0);
        sd.ifCond("branch", null, s -> positive, s -> x.mul(2), s -> x.neg());
        String out = sd.getVariableOutputOp("branch") == null ? null : "branch";
        SDVariable last = sd.getVariable(out != null ? out : sd.variables().get(sd.variables().size() - 1).name());
        assertTrue(FixedGraphExecutor.compile(sd, List.of(last.name())).isEmpty(), "a graph with a condition was compiled");
    }

    @Test
    void anExecutorKnowsWhenSurgeryChangedItsOps() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 2);
        SDVariable z = sd.placeHolder("z", DataType.FLOAT, -1, 2);
        x.mul(2).rename("y");
        FixedGraphExecutor exec = FixedGraphExecutor.compile(sd, List.of("y")).orElseThrow();
        assertTrue(exec.matches(sd));
        assertTrue(!exec.matches(SameDiff.create()), "another graph");
        // Rewire y's op to read z instead of x, as surgery does.
        var op = sd.getOps().get(sd.getVariableOutputOp("y").getOwnName());
        op.setInputsToOp(new ArrayList<>(List.of(z.name())));
        assertTrue(!exec.matches(sd), "an op with other inputs");
    }

    @Test
    void aMissingInputIsNamed() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("pixels", DataType.FLOAT, -1, 2);
        x.mul(2).rename("y");
        FixedGraphExecutor exec = FixedGraphExecutor.compile(sd, List.of("y")).orElseThrow();
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(dev.graft.GraftException.class, () -> exec.run(Map.of()));
        assertTrue(e.getMessage().contains("'pixels'"), e.getMessage());
        assertArrayEquals(new float[]{2, 4}, exec.run(Map.of("pixels", Nd4j.createFromArray(new float[][]{{1, 2}}))).get("y").data().asFloat());
    }
}
