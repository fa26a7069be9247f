package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.graft.onnx.BackendSuite;
import dev.graft.verify.Agreement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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

    // ---------------------------------------------------------------- export of hand-built graphs

    /** An activation as a head would use it, and the ONNX nodes its export should take. */
    record Activation(String name, UnaryOperator<SDVariable> f, Map<String, Integer> onnxOps) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Activation> activations() {
        return List.of(
                new Activation("relu", x -> x.getSameDiff().nn().relu(x, 0), Map.of("Relu", 1)),
                new Activation("relu cutoff 0.5", x -> x.getSameDiff().nn().relu(x, 0.5), Map.of("Max", 1)),
                new Activation("relu cutoff -1", x -> x.getSameDiff().nn().relu(x, -1), Map.of("Max", 1)),
                new Activation("relu6", x -> x.getSameDiff().nn().relu6(x, 0), Map.of("Clip", 1)),
                new Activation("relu6 cutoff 1", x -> x.getSameDiff().nn().relu6(x, 1), Map.of("Clip", 1)),
                new Activation("leakyRelu", x -> x.getSameDiff().nn().leakyRelu(x, 0.1), Map.of("LeakyRelu", 1)),
                new Activation("elu", x -> x.getSameDiff().nn().elu(x), Map.of("Elu", 1)),
                new Activation("selu", x -> x.getSameDiff().nn().selu(x), Map.of("Selu", 1)),
                new Activation("gelu", x -> x.getSameDiff().nn().gelu(x), Map.of("Mul", 2, "Sigmoid", 1)),
                new Activation("preciseGelu", x -> x.getSameDiff().nn().preciseGelu(x), Map.of("Mul", 6, "Add", 2, "Tanh", 1)),
                new Activation("swish", x -> x.getSameDiff().nn().swish(x), Map.of("Mul", 1, "Sigmoid", 1)),
                new Activation("softplus", x -> x.getSameDiff().nn().softplus(x), Map.of("Softplus", 1)),
                new Activation("softsign", x -> x.getSameDiff().nn().softsign(x), Map.of("Softsign", 1)),
                new Activation("hardSigmoid", x -> x.getSameDiff().nn().hardSigmoid(x), Map.of("HardSigmoid", 1)),
                new Activation("hardTanh", x -> x.getSameDiff().nn().hardTanh(x), Map.of("Clip", 1)),
                new Activation("tanh", x -> x.getSameDiff().math().tanh(x), Map.of("Tanh", 1)),
                new Activation("sigmoid", x -> x.getSameDiff().nn().sigmoid(x), Map.of("Sigmoid", 1)),
                new Activation("clipByValue", x -> x.getSameDiff().math().clipByValue(x, -0.5, 0.7), Map.of("Clip", 1)),
                new Activation("softmax", x -> x.getSameDiff().nn().softmax(x), Map.of("Softmax", 1)),
                new Activation("softmax axis 0", x -> x.getSameDiff().nn().softmax(x, 0), Map.of("Softmax", 1)),
                new Activation("softmax axis 1", x -> x.getSameDiff().nn().softmax(x, 1), Map.of("Softmax", 1)),
                new Activation("logSoftmax", x -> x.getSameDiff().nn().logSoftmax(x), Map.of("LogSoftmax", 1)),
                new Activation("logSoftmax axis 0", x -> x.getSameDiff().nn().logSoftmax(x, 0), Map.of("LogSoftmax", 1)));
    }

    static Stream<Arguments> activationsAndOpsets() {
        return activations().stream().flatMap(a -> Stream.of(13, 17, 21).map(o -> Arguments.of(a, o)));
    }

    /** x in [-4, 4) with the kinks of the piecewise activations (0, +-1, cutoffs, 6) among the values. */
    private static INDArray input(int batch) {
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, 8).muli(8).subi(4);
        float[] special = {0f, 1f, -1f, 0.5f, -2.5f, 6f, 7f, -0.5f};
        for (int j = 0; j < 8; j++) x.putScalar(0, j, special[j]);
        return x;
    }

    /**
     * Each activation a head can use, on a [batch, 8] placeholder: ONNX Runtime equals SameDiff at batch 1 and 7,
     * with the expected nodes. 1e-5: float32 exp/tanh/erf of ND4J and ONNX Runtime differ by a few ulps, and
     * outputs are at most ~7.
     */
    @ParameterizedTest(name = "{0}, opset {1}")
    @MethodSource("activationsAndOpsets")
    void handBuiltActivationExports(Activation a, int opset) {
        Nd4j.getRandom().setSeed(3);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 8);
        sd.updateVariableNameAndReference(a.f().apply(x), "y");
        ModelProto m = HandBuiltExport.assertExportMatches(sd, List.of("y"), opset, 1e-5,
                HandBuiltExport.batches("x", ActivationOpsTest::input, 1, 7));
        HandBuiltExport.assertOps(a.onnxOps(), m, a.name());
    }

    /**
     * ND4J's legacy dropout keeps each element with probability p without rescaling, so its inference form is
     * p * x; dropout_inverted rescales the kept elements by 1/p while training, so inference is the identity.
     * SameDiff itself always draws masks, so the export is compared with those formulas (exact: one float
     * multiplication), not with a SameDiff run.
     */
    @ParameterizedTest
    @ValueSource(ints = {13, 21})
    void dropoutExportsItsInferenceForm(int opset) {
        SameDiff sd = SameDiff.create();
        // libnd4j's dropout_inverted cannot run on a placeholder with a dynamic dim in ND4J 1.0.0-M2.1, so fixed.
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, 4, 8);
        sd.nn().dropout("kept80", x, 0.8);
        sd.nn().dropout("kept100", x, 1.0);
        sd.nn().dropoutInverted("inverted", x, 0.3);
        List<String> outs = List.of("kept80", "kept100", "inverted");
        ModelProto m = HandBuiltExport.export(sd, outs, opset);
        INDArray in = Nd4j.rand(DataType.FLOAT, 4, 8);
        Map<String, INDArray> y = HandBuiltExport.runOrt(m, Map.of("x", in), outs);
        assertEquals(in.mul(0.8f), y.get("kept80"));
        assertEquals(in, y.get("kept100"));
        assertEquals(in, y.get("inverted"));
        assertEquals(Map.of("Mul", 1), HandBuiltExport.opCounts(m).entrySet().stream()
                .filter(e -> !e.getKey().equals("Identity")).collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
    }

    /** relu on a rank-4 activation and softmax over a middle axis keep their axes. */
    @Test
    void softmaxOverAMiddleAxisOfRank4() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3, 4, 5);
        sd.nn().softmax("s", sd.nn().relu(x, 0), 2);
        sd.nn().logSoftmax("ls", x, 1);
        HandBuiltExport.assertExportMatches(sd, List.of("s", "ls"), 17, 1e-5,
                HandBuiltExport.batches("x", b -> Nd4j.rand(DataType.FLOAT, b, 3, 4, 5).muli(6).subi(3), 1, 7));
    }
}
