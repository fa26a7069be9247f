package dev.graft.onnx.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.graft.GraftModel;
import dev.graft.onnx.OnnxTensors;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * New trainable heads built by hand on a SameDiff graph (never imported), as graft attaches them, exported to
 * ONNX: [batch, 16] -> dense 32 + relu -> dropout -> "digit" (softmax over 5 classes, from the dropout output
 * concatenated with a tanh branch of the input) and "flags" (sigmoid over 3 labels).
 */
class HeadExportTest {

    /** ND4J's dropout keeps an element with this probability (and does not rescale it while training). */
    static final double KEEP = 0.8;

    /** The weights, fixed once so that the graph and its inference twin share them. */
    private static Map<String, INDArray> weights() {
        Nd4j.getRandom().setSeed(42);
        Map<String, INDArray> w = new HashMap<>();
        w.put("w1", Nd4j.randn(DataType.FLOAT, 16, 32).muli(0.3));
        w.put("b1", Nd4j.randn(DataType.FLOAT, 32).muli(0.1));
        w.put("wb", Nd4j.randn(DataType.FLOAT, 16, 8).muli(0.3));
        w.put("bb", Nd4j.randn(DataType.FLOAT, 8).muli(0.1));
        w.put("w_digit", Nd4j.randn(DataType.FLOAT, 40, 5).muli(0.3));
        w.put("b_digit", Nd4j.randn(DataType.FLOAT, 5).muli(0.1));
        w.put("w_flags", Nd4j.randn(DataType.FLOAT, 32, 3).muli(0.3));
        w.put("b_flags", Nd4j.randn(DataType.FLOAT, 3).muli(0.1));
        return w;
    }

    /**
     * The heads; with {@code inference} the dropout is replaced by its inference form (KEEP * h), the reference,
     * since a SameDiff run of the dropout op always draws a random mask.
     */
    static SameDiff heads(Map<String, INDArray> w, boolean inference) {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("input", DataType.FLOAT, -1, 16);
        Map<String, SDVariable> v = new HashMap<>();
        w.forEach((name, value) -> v.put(name, sd.var(name, value.dup())));
        SDVariable h = sd.nn().relu(sd.nn().linear(x, v.get("w1"), v.get("b1")), 0);
        SDVariable dropped = inference ? h.mul(KEEP) : sd.nn().dropout(h, KEEP);
        SDVariable branch = sd.math().tanh(sd.nn().biasAdd(sd.mmul(x, v.get("wb")), v.get("bb"), false));
        SDVariable joined = sd.concat(1, dropped, branch);
        sd.nn().softmax("digit", sd.nn().linear(joined, v.get("w_digit"), v.get("b_digit")), 1);
        sd.nn().sigmoid("flags", sd.nn().linear(dropped, v.get("w_flags"), v.get("b_flags")));
        return sd;
    }

    @Test
    void handBuiltHeadsExportAndRunInOnnxRuntime() {
        Map<String, INDArray> w = weights();
        SameDiff sd = heads(w, false);
        GraftModel model = GraftModel.of(sd, List.of("digit", "flags"));
        ModelProto m = new OnnxExporter().export(model, OnnxExporter.Options.defaults()).model();

        // Exactly the two heads are the outputs, with their names.
        assertEquals(List.of("digit", "flags"), m.getGraph().getOutputList().stream().map(ValueInfoProto::getName).toList());

        // The batch dim of the input stays symbolic; the feature dim is fixed.
        assertEquals(1, m.getGraph().getInputCount());
        TensorShapeProto shape = m.getGraph().getInput(0).getType().getTensorType().getShape();
        assertEquals("input", m.getGraph().getInput(0).getName());
        assertEquals(2, shape.getDimCount());
        assertTrue(shape.getDim(0).hasDimParam() && !shape.getDim(0).getDimParam().isEmpty(), "batch dim is dynamic: " + shape);
        assertEquals(16, shape.getDim(1).getDimValue());

        // Every trainable variable is an initializer of the same name holding the same values, bit for bit.
        Map<String, TensorProto> inits = new HashMap<>();
        m.getGraph().getInitializerList().forEach(t -> inits.put(t.getName(), t));
        int variables = 0;
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() != VariableType.VARIABLE) continue;
            variables++;
            TensorProto t = inits.get(v.name());
            assertNotNull(t, "trainable variable " + v.name() + " is an initializer");
            assertEquals(v.getArr(), OnnxTensors.toArray(t, null, v.name()), v.name());
        }
        assertEquals(8, variables);

        // Lean: the dense layers are one Gemm each, the dropout one Mul, no Identity left.
        Map<String, Integer> ops = new java.util.TreeMap<>();
        m.getGraph().getNodeList().forEach(n -> ops.merge(n.getOpType(), 1, Integer::sum));
        assertEquals(Map.of("Gemm", 3, "Relu", 1, "Mul", 1, "MatMul", 1, "Add", 1, "Tanh", 1, "Concat", 1,
                "Softmax", 1, "Sigmoid", 1), ops);
        assertFalse(ops.containsKey("Identity"));

        // ONNX Runtime on the export equals SameDiff on the inference form at batch sizes 1 and 7. 1e-5 absolute:
        // float32 dot products of 16-40 terms summed in another order (ND4J's BLAS vs ONNX Runtime's MLAS) move
        // results by ~1e-7 relative, and softmax/sigmoid outputs lie in [0, 1].
        GraftModel reference = GraftModel.of(heads(w, true), List.of("digit", "flags"));
        try (OrtRunner ort = new OrtRunner(m.toByteArray(), "hand-built heads")) {
            for (int batch : new int[]{1, 7}) {
                INDArray in = Nd4j.randn(DataType.FLOAT, batch, 16);
                Map<String, INDArray> mine = ort.run(Map.of("input", in), List.of("digit", "flags"));
                Map<String, INDArray> ref = reference.run(Map.of("input", in), List.of("digit", "flags"));
                assertArrayEquals(new long[]{batch, 5}, mine.get("digit").shape());
                assertArrayEquals(new long[]{batch, 3}, mine.get("flags").shape());
                for (String o : List.of("digit", "flags")) {
                    Agreement a = Agreement.of(mine.get(o), ref.get(o), 1e-5, 0);
                    assertTrue(a.within(), o + " at batch " + batch + ": " + a);
                }
            }
        }
    }
}
