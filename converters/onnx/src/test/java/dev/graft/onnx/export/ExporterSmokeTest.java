package dev.graft.onnx.export;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.io.Npy;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ExporterSmokeTest {
    @Test
    void handBuilt() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 4);
        SDVariable w = sd.var("w", Nd4j.rand(DataType.FLOAT, 4, 3));
        SDVariable b = sd.var("b", Nd4j.rand(DataType.FLOAT, 3));
        SDVariable y = sd.nn.softmax("probs", sd.mmul(x, w).add(b), 1);
        GraftModel m = GraftModel.of(sd, List.of("probs"));
        ModelProto p = new OnnxExporter().export(m, OnnxExporter.Options.defaults()).model();
        System.out.println(p.getGraph().getNodeList());
        INDArray in = Nd4j.rand(DataType.FLOAT, 7, 4);
        try (OrtRunner ort = new OrtRunner(p.toByteArray(), "t")) {
            INDArray got = ort.run(Map.of("x", in), List.of()).get("probs");
            INDArray exp = m.run(Map.of("x", in), List.of()).get("probs");
            assertTrue(Agreement.of(got, exp, 1e-5, 0).within());
        }
    }

    @Test
    void resnet() {
        Path dir = Path.of("tests-resources/models/resnet_small");
        GraftModel m = Graft.load(dir.resolve("model.onnx"));
        for (boolean src : new boolean[]{true, false}) {
            OnnxExporter.Result r = new OnnxExporter().export(m, OnnxExporter.Options.defaults().withSourceNodes(src));
            System.out.println("source nodes " + src + ": " + r.model().getGraph().getNodeCount() + " nodes, kept " + r.sourceNodesKept() + ", spelled " + r.opsSpelledOut());
        }
    }
}
