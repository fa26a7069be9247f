package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.onnx.export.OnnxExporter;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A convolutional fixture imported and exported with every op spelled out: the importer's weight permutes
 * and the exporter's Transposes back cancel, so no Transpose is left, and ONNX Runtime reproduces SameDiff.
 */
class ConvFixtureExportTest {

    private static final Path MODEL = Path.of("tests-resources/models/resnet_small");

    /** float32 convolutions summed in another order through a dozen layers: ~1e-5 apart, as in OnnxExporterTest. */
    private static final double ATOL = 1e-4;

    @Test
    void resnetSmallLoweredHasNoTransposeAndMatchesSameDiff() throws Exception {
        GraftModel model = Graft.load(MODEL.resolve("model.onnx"));
        ModelProto m = new OnnxExporter().export(model, OnnxExporter.Options.defaults().withSourceNodes(false)).model();
        assertEquals(List.of(), m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Transpose"))
                .map(n -> n.getName()).toList(), "Transpose nodes left");
        try (OrtRunner ort = new OrtRunner(m.toByteArray(), "resnet_small lowered")) {
            for (int batch : new int[]{1, 3}) {
                INDArray x = dev.graft.io.Npy.read(MODEL.resolve("input_b" + batch + ".npy"));
                INDArray expected = model.run(Map.of("input", x), List.of("output")).get("output");
                INDArray actual = ort.run(Map.of("input", x), List.of("output")).get("output");
                Agreement a = Agreement.of(actual, expected, ATOL, 0);
                assertTrue(a.within(), "batch " + batch + ": " + a);
            }
        }
    }
}
