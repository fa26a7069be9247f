package dev.graft.tensorflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.LoadOptions;
import dev.graft.cli.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * SavedModels written here by TensorFlow Java's own exporter, with two signatures: variables come from the
 * checkpoint and become trainable SameDiff variables under their TensorFlow names, a signature is chosen by
 * key, and a wrong key, a wrong tag or a damaged directory is a clear error (also as exit code 2 in the CLI).
 */
class TfSavedModelTest {
    @TempDir
    static Path dir;
    static Path saved;

    @BeforeAll
    static void export() throws Exception {
        saved = dir.resolve("two_signatures");
        try (Graph g = new Graph(); Session s = new Session(g)) {
            Ops tf = Ops.create(g);
            var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
            var w = tf.withSubScope("dense").withName("kernel").variable(tf.constant(new float[][]{{1, -2, 0.5f}, {0.3f, 0, 1}, {-1, 1, 1}, {2, 0.1f, -0.4f}}));
            var b = tf.withSubScope("dense").withName("bias").variable(tf.constant(new float[]{0.1f, -0.2f, 0.3f}));
            var h = tf.withName("hidden").math.tanh(tf.nn.biasAdd(tf.linalg.matMul(x, w), b));
            var y = tf.withName("score").math.sigmoid(tf.reduceSum(h, tf.constant(1)));
            s.initialize();
            SavedModelBundle.exporter(saved.toString()).withSession(s)
                    .withSignature(Signature.builder().key("serving_default").input("x", x).output("score", y).build())
                    .withSignature(Signature.builder().key("features").input("x", x).output("hidden", h).build())
                    .export();
        }
    }

    @Test
    void variablesComeFromTheCheckpointAndSignaturesByKey() {
        GraftModel m = Graft.load(saved);
        assertEquals(List.of("x"), m.inputNames());
        assertEquals(List.of("score"), m.outputNames());
        assertEquals(VariableType.VARIABLE, m.sameDiff().getVariable("dense/kernel").getVariableType());
        INDArray x = TfOpsTest.rand(1, 3, 4);
        try (TfRunner tf = TfRunner.open(saved, LoadOptions.defaults())) {
            TfOpsTest.assertClose(tf.run(Map.of("x", x), List.of()).get("score"), m.run(Map.of("x", x), List.of()).get("score"), "score");
        }
        GraftModel f = Graft.load(saved, LoadOptions.defaults().withSignature("features"));
        assertEquals(List.of("hidden"), f.outputNames());
        try (TfRunner tf = TfRunner.open(saved, LoadOptions.defaults().withSignature("features"))) {
            TfOpsTest.assertClose(tf.run(Map.of("x", x), List.of()).get("hidden"), f.run(Map.of("x", x), List.of()).get("hidden"), "hidden");
        }
        assertTrue(TensorflowImporter.signatures(saved).keySet().containsAll(List.of("serving_default", "features")));
    }

    @Test
    void wrongSignatureTagOrDirectoryIsAClearError() throws Exception {
        GraftException e = assertThrows(GraftException.class, () -> Graft.load(saved, LoadOptions.defaults().withSignature("predict")));
        assertTrue(e.getMessage().contains("no signature 'predict'") && e.getMessage().contains("features")
                && e.getMessage().contains("serving_default"), e.getMessage());
        GraftException t = assertThrows(GraftException.class, () -> Graft.load(saved, new LoadOptions(null, List.of(), List.of("train"))));
        assertTrue(t.getMessage().contains("[train]"), t.getMessage());

        // The checkpoint gone: the error names the directory, TensorFlow does not crash the JVM.
        Path broken = dir.resolve("no_variables");
        Files.createDirectories(broken);
        Files.copy(saved.resolve("saved_model.pb"), broken.resolve("saved_model.pb"));
        GraftException v = assertThrows(GraftException.class, () -> Graft.load(broken));
        assertTrue(v.getMessage().contains("no_variables") && v.getMessage().contains("variables"), v.getMessage());

        // The CLI: exit code 2 and the message on stderr, for each kind of bad input.
        CliRun sig = CliRun.of("inspect", saved.toString());
        assertEquals(0, sig.code(), sig.err());
        assertTrue(sig.out().contains("signatures:") && sig.out().contains("features: x (x:0"), sig.out());
        CliRun bad = CliRun.of("convert", "--signature", "predict", saved.toString(), dir.resolve("out.onnx").toString());
        assertEquals(2, bad.code(), bad.out() + bad.err());
        assertTrue(bad.err().contains("no signature 'predict'"), bad.err());
        assertTrue(!Files.exists(dir.resolve("out.onnx")), "no output file");
        CliRun notSaved = CliRun.of("run", dir.toString());
        assertEquals(2, notSaved.code());
        assertTrue(notSaved.err().contains("not a TensorFlow SavedModel directory"), notSaved.err());
    }

    @Test
    void verifyComparesTheImportWithTensorflow() {
        CliRun v = CliRun.of("verify", saved.toString(), "--signature", "features");
        assertEquals(0, v.code(), v.out() + v.err());
        assertTrue(v.out().contains("comparing samediff(two_signatures) with tensorflow(two_signatures)") && v.out().contains("hidden"), v.out());
        Path onnx = dir.resolve("features.onnx");
        CliRun c = CliRun.of("convert", "--signature", "features", saved.toString(), onnx.toString());
        assertEquals(0, c.code(), c.out() + c.err());
        CliRun against = CliRun.of("verify", onnx.toString(), "--against", saved.toString(), "--signature", "features");
        assertEquals(0, against.code(), against.out() + against.err());
        assertTrue(against.out().contains("tensorflow(two_signatures)"), against.out());
    }
}
