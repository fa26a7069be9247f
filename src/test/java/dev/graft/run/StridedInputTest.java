package dev.graft.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A user who feeds every third row of a batch (a strided view) gets the same outputs as one who feeds a copy.
 * Before GraftModel copied views, the TensorFlow CNN (NHWC convolutions) was off by up to 12 on its logits,
 * silently; the ONNX CNN (NCHW) was not affected. Both must give bit-identical outputs: the same arrays flow
 * through the same kernels once the view is copied.
 */
class StridedInputTest {
    @ParameterizedTest
    @ValueSource(strings = {"tests-resources/tf-models/cnn/savedmodel", "models/mnist04_cnn_torch.onnx"})
    void aStridedViewGivesTheOutputsOfItsCopy(String source) {
        GraftModel m = Graft.load(Path.of(source));
        long[] shape = m.inputs().get(0).shape().clone();
        shape[0] = 12;
        Nd4j.getRandom().setSeed(3);
        INDArray all = Nd4j.rand(DataType.FLOAT, shape);
        INDArray everyThird = all.get(NDArrayIndex.interval(0, 3, 12));
        assertTrue(everyThird.isView(), "the fixture must really feed a view");
        String in = m.inputNames().get(0);
        for (String out : m.outputNames()) {
            INDArray fromView = m.run(Map.of(in, everyThird), List.of(out)).get(out);
            INDArray fromCopy = m.run(Map.of(in, everyThird.dup()), List.of(out)).get(out);
            assertEquals(fromCopy, fromView, source + " output " + out);
        }
        assertEquals(all.get(NDArrayIndex.point(3)), everyThird.get(NDArrayIndex.point(1)), "the view is left as it was");
    }
}
