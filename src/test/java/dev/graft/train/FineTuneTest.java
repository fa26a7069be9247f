package dev.graft.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.data.Dataset;
import dev.graft.onnx.OnnxModelReader;
import dev.graft.onnx.OnnxTensors;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.surgery.HeadSpec;
import dev.graft.surgery.Surgery;
import dev.graft.verify.Agreement;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Issue #4's end-to-end checks on the PyTorch ResNet fixture (tests-resources/models/resnet_small): cut at
 * the classifier's input, graft heads, train, export, run in ONNX Runtime.
 *
 * <p>Task B is synthetic but learnable from the trunk's features: an image is noise plus a bright square in
 * one of four quadrants (the class); the multi-label head says which colour channels are lit.
 */
public class FineTuneTest {

    public static final Path RESNET = Path.of("tests-resources/models/resnet_small/model.onnx");
    static final PrintStream QUIET = new PrintStream(java.io.OutputStream.nullOutputStream());

    @TempDir
    Path dir;

    /**
     * n images [n, 3, 32, 32]: noise plus a bright 12x12 square at a random place, lit in the colour channels
     * of its class (0: red, 1: green, 2: blue, 3: all three). The trunk ends in global average pooling, so the
     * task is about colour, not position. "channels" are the lit channels as three 0/1 labels.
     */
    public static Map<String, INDArray[]> quadrants(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 3 * 32 * 32];
        long[] cls = new long[n];
        float[] channels = new float[n * 3];
        for (int i = 0; i < n; i++) {
            int q = r.nextInt(4);
            cls[i] = q;
            for (int c = 0; c < 3; c++) channels[i * 3 + c] = q == 3 || q == c ? 1 : 0;
            int top = r.nextInt(20);
            int left = r.nextInt(20);
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 32; y++) {
                    for (int xx = 0; xx < 32; xx++) {
                        boolean inside = y >= top && y < top + 12 && xx >= left && xx < left + 12;
                        float v = (float) (r.nextGaussian() * 0.3);
                        if (inside && channels[i * 3 + c] > 0) v += 2f;
                        x[((i * 3 + c) * 32 + y) * 32 + xx] = v;
                    }
                }
            }
        }
        return Map.of("x", new INDArray[]{Nd4j.create(x, new long[]{n, 3, 32, 32}, 'c')},
                "cls", new INDArray[]{Nd4j.createFromArray(cls)},
                "channels", new INDArray[]{Nd4j.create(channels, new long[]{n, 3}, 'c')});
    }

    static Dataset dataset(Map<String, INDArray[]> d, boolean withChannels) {
        Map<String, INDArray> labels = new LinkedHashMap<>();
        labels.put("quadrant", d.get("cls")[0]);
        if (withChannels) labels.put("channels", d.get("channels")[0]);
        return Dataset.of(Map.of("input", d.get("x")[0]), labels);
    }

    /** Bit-for-bit equality (ND4J's equals allows 1e-5). */
    static void assertSameBits(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        assertArrayEquals(expected.dup().data().asFloat(), actual.dup().data().asFloat(), what);
        assertTrue(java.util.Arrays.equals(expected.dup().data().asFloat(), actual.dup().data().asFloat()), what);
    }

    static Map<String, INDArray> snapshot(GraftModel m, List<String> names) {
        Map<String, INDArray> s = new HashMap<>();
        for (String n : names) s.put(n, m.sameDiff().getArrForVarName(n).dup());
        return s;
    }

    @Test
    void oneNewSoftmaxHeadTrainsExportsAndKeepsTheFrozenTrunk() throws Exception {
        GraftModel source = Graft.load(RESNET);
        Surgery.AutoCut auto = Surgery.autoCut(source);
        assertEquals("/Flatten_output_0", auto.tensor(), auto.reason());
        GraftModel model = source.cut("auto").attachHead(HeadSpec.softmax("quadrant", 4).withLayers(List.of(32))).freeze(Freeze.all());
        assertEquals(List.of("quadrant"), model.outputNames());
        List<String> trunk = model.parameterNames().stream().filter(p -> !p.startsWith("quadrant/")).toList();
        assertFalse(trunk.isEmpty());
        Map<String, INDArray> before = snapshot(model, trunk);

        Dataset data = dataset(quadrants(192, 1), false);
        FitResult fit = model.fit(data, TrainSettings.defaults().withEpochs(12).withBatchSize(32).withLearningRate(1e-2)
                .withProgress(QUIET, true));
        double first = ((Number) fit.history().get(0).get("train_loss")).doubleValue();
        double last = ((Number) fit.history().get(fit.history().size() - 1).get("train_loss")).doubleValue();
        assertTrue(fit.featureCache(), "a frozen trunk trains the head on cached features");
        assertTrue(last < 0.5 * first, "training loss falls clearly: " + first + " -> " + last);

        for (String t : trunk) {
            assertSameBits(before.get(t), model.sameDiff().getArrForVarName(t), "frozen weight changed: " + t);
        }

        // Kept in target/exported-models for ONNX's checker, which .ci/run applies to every exported model.
        Path out = Path.of("target/exported-models/finetuned/quadrant.onnx");
        model.exportOnnx(out);
        ModelProto m = OnnxModelReader.of(out).read();
        assertEquals(List.of("quadrant"), m.getGraph().getOutputList().stream().map(o -> o.getName()).toList());
        String summary = m.getMetadataPropsList().stream().filter(p -> p.getKey().equals("graft.training")).findFirst()
                .orElseThrow().getValue();
        assertTrue(summary.contains("\"heads\":[\"quadrant\"]") && summary.contains("\"epochs_run\":12"), summary);
        INDArray x = quadrants(5, 99).get("x")[0];
        try (OrtRunner ort = new OrtRunner(out)) {
            Agreement a = Agreement.of(ort.run(Map.of("input", x), List.of()).get("quadrant"),
                    model.run(Map.of("input", x), List.of()).get("quadrant"), 1e-4, 0);
            assertTrue(a.within(), a.toString());
        }
        // Frozen trunk weights in the exported file equal the source model's, bit for bit.
        Map<String, TensorProto> sourceInits = new HashMap<>();
        OnnxModelReader.of(RESNET).read().getGraph().getInitializerList().forEach(t -> sourceInits.put(t.getName(), t));
        int compared = 0;
        for (TensorProto t : m.getGraph().getInitializerList()) {
            if (!sourceInits.containsKey(t.getName())) continue;
            assertSameBits(OnnxTensors.toArray(sourceInits.get(t.getName()), null, "source"), OnnxTensors.toArray(t, null, "export"), t.getName());
            compared++;
        }
        assertTrue(compared >= 20, "trunk weights compared: " + compared);
    }

    @Test
    void twoHeadsWithMissingLabelsTrainAndExport() throws Exception {
        GraftModel model = Graft.load(RESNET).cut("auto")
                .attachHead(HeadSpec.softmax("quadrant", 4).withLayers(List.of(32)))
                // The second branch leaves the trunk earlier, at the end of layer2 (a 4-D map, flattened).
                .attachHead(new HeadSpec("channels", null, List.of(16), "relu", 0.1, HeadSpec.OutputKind.SIGMOID, 3, 0.5, 11)
                        .withFrom("/layer2/relu_1/Relu_output_0"))
                .freeze(Freeze.all());
        assertEquals(List.of("quadrant", "channels"), model.outputNames());
        assertTrue(model.heads().get(1).flattened());
        Map<String, INDArray[]> d = quadrants(192, 2);
        // A third of the class labels and a quarter of the channel labels are missing.
        INDArray cls = d.get("cls")[0].dup();
        INDArray ch = d.get("channels")[0].dup();
        Random r = new Random(5);
        for (int i = 0; i < 192; i++) {
            if (r.nextInt(3) == 0) cls.putScalar(i, -1);
            for (int c = 0; c < 3; c++) if (r.nextInt(4) == 0) ch.putScalar(i, c, Double.NaN);
        }
        Dataset data = Dataset.of(Map.of("input", d.get("x")[0]), Map.of("quadrant", cls, "channels", ch));
        FitResult fit = model.fit(data, TrainSettings.defaults().withEpochs(16).withBatchSize(32).withLearningRate(1e-2)
                .withValidationSplit(0.25).withProgress(QUIET, true));
        Map<String, Object> first = fit.history().get(0);
        Map<String, Object> last = fit.history().get(fit.history().size() - 1);
        assertTrue(((Number) last.get("train_loss")).doubleValue() < 0.6 * ((Number) first.get("train_loss")).doubleValue(),
                "loss falls: " + first + " -> " + last);
        for (String k : List.of("quadrant_accuracy", "quadrant_macro_f1", "channels_accuracy", "channels_f1", "val_loss",
                "val_quadrant_accuracy", "val_channels_f1")) {
            assertTrue(last.containsKey(k), k + " in " + last.keySet());
        }
        Path out = Path.of("target/exported-models/finetuned/two_heads.onnx");
        model.exportOnnx(out);
        INDArray x = quadrants(7, 98).get("x")[0];
        try (OrtRunner ort = new OrtRunner(out)) {
            assertEquals(List.of("quadrant", "channels"), ort.outputNames());
            Map<String, INDArray> a = ort.run(Map.of("input", x), List.of("quadrant", "channels"));
            Map<String, INDArray> b = model.run(Map.of("input", x), List.of("quadrant", "channels"));
            for (String o : List.of("quadrant", "channels")) {
                assertTrue(Agreement.of(a.get(o), b.get(o), 1e-4, 0).within(), o);
            }
        }
    }

    /** The seed's multi-task rule: an example whose labels are all missing changes nothing. */
    @Test
    void anExampleWithAllLabelsMissingChangesNothing() {
        Map<String, INDArray[]> d = quadrants(16, 3);
        INDArray x = d.get("x")[0];
        INDArray cls = d.get("cls")[0];
        INDArray ch = d.get("channels")[0];
        // The same 16 rows, plus one more row whose labels are all missing.
        INDArray x17 = Nd4j.concat(0, x, quadrants(1, 4).get("x")[0]);
        INDArray cls17 = Nd4j.concat(0, cls, Nd4j.createFromArray(-1L));
        INDArray ch17 = Nd4j.concat(0, ch, Nd4j.create(new float[]{Float.NaN, Float.NaN, Float.NaN}, new long[]{1, 3}, 'c'));
        Map<String, INDArray> after16 = trainOneStep(Dataset.of(Map.of("input", x), Map.of("quadrant", cls, "channels", ch)), 16);
        Map<String, INDArray> after17 = trainOneStep(Dataset.of(Map.of("input", x17), Map.of("quadrant", cls17, "channels", ch17)), 17);
        // The extra row adds exact zeros to every sum and nothing to the label counts. The matrix products
        // still sum 17 rows in another blocking than 16 (oneDNN/BLAS), which may move a float32 result by one
        // unit in the last place: 1e-8 absolute is about one ulp of these weights (|w| < 0.3), far below any
        // effect a labelled row would have (the first step moves weights by about 1e-3).
        for (String v : after16.keySet()) {
            Agreement a = Agreement.of(after17.get(v), after16.get(v), 1e-8, 0);
            assertTrue(a.within(), v + ": " + a);
        }
        Map<String, INDArray> untrained = trainOneStep(Dataset.of(Map.of("input", x), Map.of("quadrant", cls, "channels", ch)), 0);
        String w = "quadrant/out/W";
        assertTrue(Agreement.of(untrained.get(w), after16.get(w), 1e-4, 0).maxAbs() > 1e-4, "the step itself did change the head");
    }

    /** The heads' weights after one SGD step over all rows in one batch ({@code batch} 0: no step). */
    private Map<String, INDArray> trainOneStep(Dataset data, int batch) {
        GraftModel model = Graft.load(RESNET).cut("auto").attachHead(HeadSpec.softmax("quadrant", 4))
                .attachHead(new HeadSpec("channels", "/Flatten_output_0", List.of(), "relu", 0, HeadSpec.OutputKind.SIGMOID, 3, 1, 11))
                .freeze(Freeze.all());
        // One batch holding every row: no shuffle can reorder the labelled rows differently.
        if (batch > 0) {
            model.fit(data, TrainSettings.defaults().withEpochs(1).withBatchSize(batch).withOptimizer("sgd")
                    .withProgress(QUIET, true));
        }
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (String p : model.parameterNames()) if (p.startsWith("quadrant/") || p.startsWith("channels/")) w.put(p, model.sameDiff().getArrForVarName(p).dup());
        return w;
    }

    @Test
    void lastKTrainsOnlyTheLastLayersOfTheTrunk() {
        GraftModel model = Graft.load(RESNET).cut("auto").attachHead(HeadSpec.softmax("quadrant", 4)).freeze(Freeze.last(2));
        java.util.Set<String> trainable = model.freezing().trainableTrunk(model);
        assertEquals(2, Freeze.layers(model, trainable).size(), trainable.toString());
        List<String> all = model.parameterNames().stream().filter(p -> !p.startsWith("quadrant/")).toList();
        Map<String, INDArray> before = snapshot(model, all);
        model.fit(dataset(quadrants(64, 6), false), TrainSettings.defaults().withEpochs(1).withBatchSize(32)
                .withProgress(QUIET, true));
        for (String p : all) {
            boolean changed = !java.util.Arrays.equals(before.get(p).dup().data().asFloat(),
                    model.sameDiff().getArrForVarName(p).dup().data().asFloat());
            assertEquals(trainable.contains(p), changed, p + (trainable.contains(p) ? " should train" : " is frozen"));
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = Freeze.BatchNorm.class, names = {"FROZEN", "STATS"})
    void resumedTrainingEqualsAnUninterruptedRun(Freeze.BatchNorm bn) {
        Dataset data = dataset(quadrants(96, 7), false);
        TrainSettings base = TrainSettings.defaults().withBatchSize(32).withLearningRate(2e-3).withProgress(QUIET, true)
                .withFeatureCache("off");
        // With bn: stats the statistics move every epoch: the checkpoint must carry them too.
        GraftModel straight = fresh().freeze(Freeze.last(1).withBatchNorm(bn));
        straight.fit(data, base.withEpochs(3).withCheckpoints(dir.resolve("a" + bn), false));
        GraftModel firstPart = fresh().freeze(Freeze.last(1).withBatchNorm(bn));
        firstPart.fit(data, base.withEpochs(2).withCheckpoints(dir.resolve("b" + bn), false));
        GraftModel resumed = fresh().freeze(Freeze.last(1).withBatchNorm(bn));
        resumed.fit(data, base.withEpochs(3).withCheckpoints(dir.resolve("b" + bn), true));
        for (String p : straight.parameterNames()) {
            assertSameBits(straight.sameDiff().getArrForVarName(p), resumed.sameDiff().getArrForVarName(p), p);
        }
    }

    private static GraftModel fresh() {
        return Graft.load(RESNET).cut("auto").attachHead(HeadSpec.softmax("quadrant", 4).withLayers(List.of(16)).withDropout(0.2))
                .freeze(Freeze.last(1));
    }

    @Test
    void cutRemovesWhatOnlyTheClassifierUsed() {
        GraftModel source = Graft.load(RESNET);
        long before = source.parameterCount();
        GraftModel trunk = source.cut("/Flatten_output_0");
        assertEquals(List.of("/Flatten_output_0"), trunk.outputNames());
        assertTrue(trunk.parameterCount() < before, "the classifier's weights are gone");
        assertTrue(trunk.sameDiff().getOps().values().stream().noneMatch(op -> op.getOp().opName().equals("matmul")));
        INDArray x = quadrants(2, 8).get("x")[0];
        assertArrayEquals(new long[]{2, 64}, trunk.run(Map.of("input", x), List.of()).get("/Flatten_output_0").shape());
    }

    /** until:T keeps every weight T depends on and trains the rest; bn: train moves scale and bias, never the statistics. */
    @Test
    void untilAndBatchNormModes() {
        GraftModel source = Graft.load(RESNET);
        String until = "/layer2/relu_1/Relu_output_0";
        assertTrue(source.sameDiff().hasVariable(until), "the fixture has " + until);
        GraftModel model = source.cut("auto").attachHead(HeadSpec.softmax("quadrant", 4))
                .freeze(Freeze.until(until).withBatchNorm(Freeze.BatchNorm.TRAIN));
        java.util.Set<String> before = Freeze.ancestors(model.sameDiff(), until);
        java.util.Set<String> trainable = model.freezing().trainableTrunk(model);
        java.util.Set<String> statistics = new java.util.HashSet<>();
        java.util.Set<String> bnAffine = new java.util.HashSet<>();
        for (GraftModel.SourceNode n : model.sourceNodes()) {
            if (n.opType().equals("BatchNormalization")) {
                statistics.addAll(n.inputs().subList(3, 5));
                bnAffine.addAll(n.inputs().subList(1, 3));
            }
        }
        assertFalse(statistics.isEmpty());
        List<String> trunk = model.parameterNames().stream().filter(p -> !p.startsWith("quadrant/")).toList();
        Map<String, INDArray> start = snapshot(model, trunk);
        model.fit(dataset(quadrants(64, 12), false), TrainSettings.defaults().withEpochs(1).withBatchSize(32)
                .withTrunkLearningRate(1e-3).withProgress(QUIET, true));
        int movedAffine = 0;
        for (String p : trunk) {
            boolean changed = !java.util.Arrays.equals(start.get(p).dup().data().asFloat(),
                    model.sameDiff().getArrForVarName(p).dup().data().asFloat());
            if (before.contains(p) || statistics.contains(p)) {
                assertFalse(changed, p + " is before '" + until + "' or a running statistic: it must not change");
            } else {
                assertEquals(trainable.contains(p), changed, p);
                if (changed && bnAffine.contains(p)) movedAffine++;
            }
        }
        assertTrue(movedAffine > 0, "bn: train lets BatchNormalization scale/bias after the cut point train");
    }

    /** Early stopping watches a metric, stops after `patience` epochs without progress, and keeps the best weights. */
    @Test
    void earlyStoppingKeepsTheBestEpoch() throws Exception {
        GraftModel model = Graft.load(RESNET).cut("auto").attachHead(HeadSpec.softmax("quadrant", 4)).freeze(Freeze.all());
        Path ck = dir.resolve("ck");
        // A learning rate this large makes validation loss rise after the first epochs.
        FitResult fit = model.fit(dataset(quadrants(96, 13), false), TrainSettings.defaults().withEpochs(30).withBatchSize(16)
                .withLearningRate(0.5).withValidationSplit(0.25).withEarlyStopping("val_loss", 2).withCheckpoints(ck, false)
                .withProgress(QUIET, true));
        assertTrue(fit.stoppedEarly(), "stopped: " + fit.history().size() + " epochs");
        double best = Double.MAX_VALUE;
        int bestEpoch = -1;
        for (Map<String, Object> row : fit.history()) {
            double v = ((Number) row.get("val_loss")).doubleValue();
            if (v < best) {
                best = v;
                bestEpoch = ((Number) row.get("epoch")).intValue();
            }
        }
        assertEquals(bestEpoch, fit.bestEpoch());
        assertEquals(bestEpoch + 2, fit.history().size(), "stops two epochs after the best");
        // The model holds the best checkpoint's weights.
        List<String> vars = new com.fasterxml.jackson.databind.ObjectMapper().readValue(ck.resolve("best/variables.json").toFile(),
                new com.fasterxml.jackson.core.type.TypeReference<List<String>>() { });
        for (int i = 0; i < vars.size(); i++) {
            assertSameBits(dev.graft.io.Npy.read(ck.resolve("best/w" + i + ".npy")), model.sameDiff().getArrForVarName(vars.get(i)), vars.get(i));
        }
    }

    /** SqueezeNet's classifier is a 1x1 Conv: cut auto stops before it; a dense head on the 4-D map flattens it. */
    @Test
    void aDenseHeadOnAFeatureMapFlattensIt() throws Exception {
        GraftModel model = Graft.load(Path.of("tests-resources/models/squeezenet/model.onnx")).cut("auto");
        assertEquals(List.of("/features/features.12/Concat_output_0"), model.outputNames());
        model = model.attachHead(HeadSpec.softmax("kind", 3));
        assertTrue(model.heads().get(0).flattened());
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 64, 64);
        INDArray y = model.run(Map.of("input", x), List.of()).get("kind");
        assertArrayEquals(new long[]{2, 3}, y.shape());
        Path out = dir.resolve("squeeze.onnx");
        model.exportOnnx(out);
        try (OrtRunner ort = new OrtRunner(out)) {
            assertTrue(Agreement.of(ort.run(Map.of("input", x), List.of()).get("kind"), y, 1e-4, 0).within());
        }
    }

    /** clip_norm bounds a step; a step schedule with gamma 0 stops learning after the first epoch. */
    @Test
    void clippingAndStepSchedule() {
        Dataset data = dataset(quadrants(32, 14), false);
        GraftModel clipped = Graft.load(RESNET).cut("auto").attachHead(HeadSpec.softmax("quadrant", 4));
        Map<String, INDArray> before = snapshot(clipped, clipped.heads().get(0).variables());
        clipped.fit(data, TrainSettings.defaults().withEpochs(1).withBatchSize(32).withOptimizer("sgd").withLearningRate(1.0)
                .withClipNorm(1e-3).withProgress(QUIET, true).withSeed(1));
        double sq = 0;
        for (String v : before.keySet()) {
            double d = clipped.sameDiff().getArrForVarName(v).sub(before.get(v)).norm2Number().doubleValue();
            sq += d * d;
        }
        // One SGD step with Nesterov momentum 0.9 from zero velocity moves (1 + 0.9) * lr * g, |g| clipped to 1e-3.
        assertEquals(1.9e-3, Math.sqrt(sq), 1e-6, "update norm");

        GraftModel stepped = Graft.load(RESNET).cut("auto").attachHead(HeadSpec.softmax("quadrant", 4));
        // Plain SGD: with a learning rate of 0 nothing moves (Adam's and momentum's state would).
        TrainSettings s = TrainSettings.defaults().withOptimizer("sgd").withMomentum(0).withBatchSize(32).withLearningRate(1e-1)
                .withSchedule("step", 1, 0.0).withProgress(QUIET, true);
        stepped.fit(data, s.withEpochs(1));
        Map<String, INDArray> afterOne = snapshot(stepped, stepped.heads().get(0).variables());
        GraftModel twice = Graft.load(RESNET).cut("auto").attachHead(HeadSpec.softmax("quadrant", 4));
        twice.fit(data, s.withEpochs(3));
        for (String v : afterOne.keySet()) assertSameBits(afterOne.get(v), twice.sameDiff().getArrForVarName(v), v);
    }

    /**
     * bn: stats re-estimates each BatchNormalization's running statistics on the training data; scale and bias
     * stay. The first node's input (the stem convolution) depends on no statistics, so its mean and variance
     * can be computed here independently, from the untouched source model.
     */
    @Test
    void batchNormStatisticsAreReestimatedOnTheTrainingData() throws Exception {
        Dataset data = dataset(quadrants(48, 15), false);
        GraftModel model = Graft.load(RESNET).cut("auto").attachHead(HeadSpec.softmax("quadrant", 4))
                .freeze(Freeze.all().withBatchNorm(Freeze.BatchNorm.STATS));
        GraftModel.SourceNode stem = model.sourceNodes().stream().filter(n -> n.opType().equals("BatchNormalization"))
                .findFirst().orElseThrow();
        String scale = stem.inputs().get(1);
        INDArray scaleBefore = model.sameDiff().getArrForVarName(scale).dup();
        INDArray meanBefore = model.sameDiff().getArrForVarName(stem.inputs().get(3)).dup();
        model.fit(data, TrainSettings.defaults().withEpochs(1).withBatchSize(16).withProgress(QUIET, true));

        INDArray conv = Graft.load(RESNET).run(Map.of("input", data.inputs().get("input")), List.of(stem.inputs().get(0)))
                .get(stem.inputs().get(0)).castTo(DataType.DOUBLE);
        INDArray expectedMean = conv.mean(0, 2, 3);
        INDArray expectedVar = conv.var(true, 0, 2, 3); // unbiased, as PyTorch's running_var
        INDArray mean = model.sameDiff().getArrForVarName(stem.inputs().get(3)).castTo(DataType.DOUBLE);
        INDArray var = model.sameDiff().getArrForVarName(stem.inputs().get(4)).castTo(DataType.DOUBLE);
        // float32 statistics of ~49k values per channel: agreement to 1e-5 relative is what float32 holds.
        assertTrue(Agreement.of(mean, expectedMean.reshape(mean.shape()), 1e-5, 1e-5).within(), "mean " + mean + " vs " + expectedMean);
        assertTrue(Agreement.of(var, expectedVar.reshape(var.shape()), 1e-5, 1e-5).within(), "var " + var + " vs " + expectedVar);
        assertFalse(Agreement.of(mean, meanBefore.castTo(DataType.DOUBLE), 1e-6, 0).within(), "the statistics did change");
        assertSameBits(scaleBefore, model.sameDiff().getArrForVarName(scale), "scale stays under bn: stats");

        Path out = dir.resolve("stats.onnx");
        model.exportOnnx(out);
        INDArray x = quadrants(3, 16).get("x")[0];
        try (OrtRunner ort = new OrtRunner(out)) {
            assertTrue(Agreement.of(ort.run(Map.of("input", x), List.of()).get("quadrant"),
                    model.run(Map.of("input", x), List.of()).get("quadrant"), 1e-4, 0).within());
        }
    }
}
