package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.graft.GraftModel;
import dev.graft.onnx.export.OnnxExporter;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Graphs built by hand with SameDiff (never imported), exported with every op spelled out and run in ONNX Runtime:
 * what the exporters of ops the backend suite never produces are tested with.
 */
final class HandBuiltExport {

    private HandBuiltExport() {
    }

    /** Exports the graph's outputs at the given opset; returns the model. */
    static ModelProto export(SameDiff sd, List<String> outputs, int opset) {
        return new OnnxExporter().export(GraftModel.of(sd, outputs), OnnxExporter.Options.defaults().withOpset(opset)
                .withSourceNodes(false)).model();
    }

    /**
     * Exports, then for each feed compares ONNX Runtime's outputs with SameDiff's (same shapes, within atol);
     * returns the exported model for further checks.
     */
    static ModelProto assertExportMatches(SameDiff sd, List<String> outputs, int opset, double atol,
                                          List<Map<String, INDArray>> feeds) {
        ModelProto model = export(sd, outputs, opset);
        GraftModel g = GraftModel.of(sd, outputs);
        try (OrtRunner ort = new OrtRunner(model.toByteArray(), "hand-built, opset " + opset)) {
            for (Map<String, INDArray> feed : feeds) {
                Map<String, INDArray> mine = ort.run(feed, outputs);
                Map<String, INDArray> ref = g.run(feed, outputs);
                for (String o : outputs) {
                    String what = o + " at opset " + opset + ", input shape "
                            + java.util.Arrays.toString(feed.values().iterator().next().shape());
                    assertArrayEquals(ref.get(o).shape(), mine.get(o).shape(), what);
                    Agreement a = Agreement.of(mine.get(o), ref.get(o), atol, 0);
                    assertTrue(a.within(), what + ": " + a);
                }
            }
        }
        return model;
    }

    /** ONNX Runtime's outputs of an exported model. */
    static Map<String, INDArray> runOrt(ModelProto model, Map<String, INDArray> feed, List<String> outputs) {
        try (OrtRunner ort = new OrtRunner(model.toByteArray(), "hand-built")) {
            return ort.run(feed, outputs);
        }
    }

    /** How many nodes of each op type the model has, e.g. {Gemm=1, Relu=1}. */
    static Map<String, Integer> opCounts(ModelProto model) {
        Map<String, Integer> counts = new TreeMap<>();
        for (NodeProto n : model.getGraph().getNodeList()) counts.merge(n.getOpType(), 1, Integer::sum);
        return counts;
    }

    static void assertOps(Map<String, Integer> expected, ModelProto model, String what) {
        assertEquals(expected, opCounts(model), what + ": exported node types");
    }

    /** Feeds of the same input at two batch sizes. */
    static List<Map<String, INDArray>> batches(String input, Function<Integer, INDArray> make, int... sizes) {
        return java.util.Arrays.stream(sizes).mapToObj(b -> Map.of(input, make.apply(b))).toList();
    }
}
