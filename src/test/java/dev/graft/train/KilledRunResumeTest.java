package dev.graft.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.data.Dataset;
import dev.graft.surgery.HeadSpec;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Issue #4: kill a training process mid-epoch, resume from its checkpoints, and end with the weights an
 * uninterrupted run ends with, bit for bit (optimizer state, step counter, shuffles and dropout masks all
 * come back).
 */
class KilledRunResumeTest {

    static final int EPOCHS = 5;

    @TempDir
    Path dir;

    static GraftModel model() {
        return Graft.load(FineTuneTest.RESNET).cut("auto")
                .attachHead(HeadSpec.softmax("quadrant", 4).withLayers(List.of(16)).withDropout(0.2))
                .freeze(Freeze.last(2));
    }

    static Dataset data() {
        Map<String, INDArray[]> d = FineTuneTest.quadrants(160, 21);
        return Dataset.of(Map.of("input", d.get("x")[0]), Map.of("quadrant", d.get("cls")[0]));
    }

    static TrainSettings settings(int epochs) {
        return TrainSettings.defaults().withEpochs(epochs).withBatchSize(16).withOptimizer("adamw").withWeightDecay(0.01)
                .withLearningRate(2e-3).withSchedule("cosine", 1, 0.5).withClipNorm(5)
                .withProgress(new PrintStream(java.io.OutputStream.nullOutputStream()), true);
    }

    @Test
    void killedMidEpochThenResumedEqualsUninterrupted() throws Exception {
        Path checkpoints = dir.resolve("checkpoints");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g", "-cp", System.getProperty("java.class.path"), ResumeChild.class.getName(),
                checkpoints.toString(), Integer.toString(EPOCHS))
                .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        // Wait for the second epoch's checkpoint, then kill the process: it is then inside epoch 3.
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!Files.isDirectory(checkpoints.resolve("epoch-0002")) && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(child.isAlive(), "the child finished or died before it could be killed: " + Files.readString(dir.resolve("child.log")));
        child.destroyForcibly().waitFor();
        assertTrue(!Files.exists(checkpoints.resolve("epoch-" + String.format("%04d", EPOCHS))), "killed before the end");

        GraftModel resumed = model();
        FitResult r = resumed.fit(data(), settings(EPOCHS).withCheckpoints(checkpoints, true));
        assertTrue(r.history().size() == EPOCHS, "history carries on from the checkpoint: " + r.history().size());

        GraftModel straight = model();
        straight.fit(data(), settings(EPOCHS));
        int compared = 0;
        for (String p : straight.parameterNames()) {
            float[] a = straight.sameDiff().getArrForVarName(p).dup().data().asFloat();
            float[] b = resumed.sameDiff().getArrForVarName(p).dup().data().asFloat();
            assertArrayEquals(a, b, p);
            compared++;
        }
        assertTrue(compared > 4);
        try (Stream<Path> s = Files.list(checkpoints)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no partial checkpoint left");
        }
    }
}
