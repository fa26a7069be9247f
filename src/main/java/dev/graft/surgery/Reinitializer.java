package dev.graft.surgery;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Forgets what a model learned: every trunk weight (each floating-point variable that is not a grafted head's)
 * gets a fresh value drawn from a seed, so the same architecture can be trained from scratch. The heads keep
 * theirs (they are fresh already). Rules, by the source node that reads the weight:
 * <ul>
 *   <li>BatchNormalization (ONNX) / FusedBatchNorm (TensorFlow): scale 1, bias 0, running mean 0, running
 *       variance 1 (PyTorch's and Keras' initial state);</li>
 *   <li>a weight of rank 2 or more: He-normal, std sqrt(2 / fan_in), as graft's heads before ReLU-like
 *       activations. fan_in: ONNX Conv [M, C/g, kH, kW]: C/g * kH * kW; Gemm: B's input axis (axis 1 when
 *       transB = 1, else 0); MatMul: axis 0; TensorFlow Conv2D (HWIO) and DepthwiseConv2dNative: every axis
 *       but the last; TensorFlow MatMul: axis 0 (axis 1 with transpose_b); anything else: every axis but the first;</li>
 *   <li>any other weight (biases, rank 0 or 1): 0.</li>
 * </ul>
 * Values are drawn with java.util.SplittableRandom in the order of the sorted weight names, so the same seed
 * gives the same weights on any backend.
 */
public final class Reinitializer {

    private Reinitializer() {
    }

    /** How each re-initialised weight was set, by name (e.g. "he_normal fan_in=9", "zeros", "ones"). */
    public static Map<String, String> reinitialize(GraftModel model, long seed) {
        Set<String> headVars = new HashSet<>();
        model.heads().forEach(h -> headVars.addAll(h.variables()));
        Map<String, String> fixed = new HashMap<>();
        for (GraftModel.SourceNode n : model.sourceNodes()) roles(n, fixed);
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, String> done = new LinkedHashMap<>();
        List<String> names = model.parameterNames().stream().sorted().toList();
        for (String name : names) {
            if (headVars.contains(name)) continue;
            SDVariable v = model.sameDiff().getVariable(name);
            if (v.getVariableType() != VariableType.VARIABLE || !v.dataType().isFPType() || v.getArr() == null) continue;
            INDArray arr = v.getArr();
            String role = fixed.get(name);
            if ("ones".equals(role)) {
                arr.assign(1.0);
            } else if ("zeros".equals(role) || arr.rank() < 2) {
                arr.assign(0.0);
                role = "zeros";
            } else {
                long fanIn = fanIn(name, arr.shape(), model);
                double std = Math.sqrt(2.0 / fanIn);
                double[] values = new double[(int) arr.length()];
                for (int i = 0; i < values.length; i++) values[i] = gaussian(random) * std;
                arr.assign(Nd4j.createFromArray(values).castTo(arr.dataType()).reshape('c', arr.shape()));
                role = "he_normal fan_in=" + fanIn;
            }
            done.put(name, role);
        }
        if (done.isEmpty()) throw new GraftException("reinitialize: the model has no trunk weights");
        SameDiffState.reset(model.sameDiff());
        return done;
    }

    /** BatchNormalization's inputs: data, scale, bias, mean, variance. */
    private static void roles(GraftModel.SourceNode n, Map<String, String> fixed) {
        boolean bn = n.inputs().size() >= 5 && (n.opType().equals("BatchNormalization") || n.opType().startsWith("FusedBatchNorm"));
        if (!bn) return;
        fixed.put(n.inputs().get(1), "ones");
        fixed.put(n.inputs().get(2), "zeros");
        fixed.put(n.inputs().get(3), "zeros");
        fixed.put(n.inputs().get(4), "ones");
    }

    /** The number of inputs feeding one output unit of the weight, from the first source node that reads it. */
    static long fanIn(String name, long[] shape, GraftModel model) {
        for (GraftModel.SourceNode n : model.sourceNodes()) {
            int slot = n.inputs().indexOf(name);
            if (slot < 0) continue;
            String op = n.opType();
            boolean tf = !"onnx".equals(model.source().format());
            if (!tf && (op.equals("Conv") || op.equals("ConvTranspose"))) return product(shape, 1, shape.length);
            if (!tf && op.equals("Gemm") && slot == 1) return transB(n) ? shape[1] : shape[0];
            if (!tf && op.equals("MatMul") && slot == 1) return shape[0];
            if (tf && (op.equals("Conv2D") || op.equals("DepthwiseConv2dNative"))) return product(shape, 0, shape.length - 1);
            if (tf && op.equals("MatMul")) return tfTransposeB(n) ? shape[1] : shape[0];
            break;
        }
        return product(shape, 1, shape.length);
    }

    private static boolean transB(GraftModel.SourceNode n) {
        try {
            for (AttributeProto a : NodeProto.parseFrom(n.definition()).getAttributeList()) {
                if (a.getName().equals("transB")) return a.getI() != 0;
            }
            return false;
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new GraftException("internal error: the definition of node '" + n.name() + "' cannot be read back");
        }
    }

    private static boolean tfTransposeB(GraftModel.SourceNode n) {
        try {
            var a = org.tensorflow.proto.NodeDef.parseFrom(n.definition()).getAttrOrDefault("transpose_b", null);
            return a != null && a.getB();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new GraftException("internal error: the definition of node '" + n.name() + "' cannot be read back");
        }
    }

    private static long product(long[] shape, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) p *= shape[i];
        return Math.max(1, p);
    }

    private static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(Math.max(u1, 1e-300))) * Math.cos(2 * Math.PI * u2);
    }
}
