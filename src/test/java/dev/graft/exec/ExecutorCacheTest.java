package dev.graft.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.io.Npy;
import dev.graft.surgery.HeadSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * GraftModel.run goes through a cached executor: what it returns must follow the graph and the weights as they
 * are at each call, as SameDiff's own session does.
 */
class ExecutorCacheTest {

    private static final Path RESNET = Path.of("tests-resources/models/resnet_small");

    private static float[] session(GraftModel m, Map<String, INDArray> feeds, String out) {
        return m.sameDiff().output(feeds, List.of(out)).get(out).dup().data().asFloat();
    }

    @Test
    void followsChangedWeightsAndSurgery() {
        GraftModel m = Graft.load(RESNET.resolve("model.onnx"));
        Map<String, INDArray> feeds = Map.of("input", Npy.read(RESNET.resolve("input_b3.npy")));
        String out = m.outputNames().get(0);
        float[] before = m.run(feeds, List.of()).get(out).dup().data().asFloat();
        assertArrayEquals(session(m, feeds, out), before);

        // Training changes weights in place between runs: the next run must see them.
        String weight = m.parameterNames().stream().filter(p -> p.contains("conv1")).findFirst().orElseThrow();
        m.sameDiff().getArrForVarName(weight).muli(0.5);
        float[] changed = m.run(feeds, List.of()).get(out).dup().data().asFloat();
        assertFalse(java.util.Arrays.equals(before, changed), "the run did not see the changed weight " + weight);
        assertArrayEquals(session(m, feeds, out), changed);

        // Surgery changes the graph: a head on the cut trunk runs, as the session runs it.
        GraftModel grafted = m.cut("auto").attachHead(HeadSpec.softmax("colour", 4));
        String head = grafted.outputNames().get(0);
        float[] headOut = grafted.run(feeds, List.of()).get(head).dup().data().asFloat();
        assertArrayEquals(session(grafted, feeds, head), headOut);
        assertTrue(headOut.length == 3 * 4, "3 rows of 4 classes, got " + headOut.length);
    }
}
