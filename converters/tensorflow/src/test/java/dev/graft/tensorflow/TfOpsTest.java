package dev.graft.tensorflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.LoadOptions;
import dev.graft.onnx.runtime.OrtRunner;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.Output;

/**
 * Each TensorFlow op graft imports, built with TensorFlow Java's raw op builder (so the exact op type is
 * tested), run by TensorFlow and by the imported SameDiff graph on the same random inputs. Tolerance 1e-4
 * absolute plus 1e-4 relative: both engines compute in float32 but sum in different orders (convolutions,
 * reductions), which moves the last bits of values of order 1-100.
 */
class TfOpsTest {
    @TempDir
    Path dir;

    private static final org.tensorflow.proto.DataType F = org.tensorflow.proto.DataType.DT_FLOAT;
    private static final org.tensorflow.proto.DataType I32 = org.tensorflow.proto.DataType.DT_INT32;

    static INDArray rand(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, shape);
    }

    static INDArray ints(int... v) {
        return Nd4j.createFromArray(v);
    }

    /**
     * Imports the graph with these outputs and compares, for each feed set, SameDiff with TensorFlow and the
     * model exported to ONNX (run in ONNX Runtime) with TensorFlow: the three-way check of every op.
     */
    private GraftModel check(TfGraphBuilder b, List<String> outputs, List<Map<String, INDArray>> feedSets) throws Exception {
        Path pb = b.save(dir, "graph.pb");
        GraftModel model = Graft.load(pb, LoadOptions.defaults().withOutputs(outputs));
        Path onnx = dir.resolve("graph.onnx");
        model.exportOnnx(onnx);
        try (OrtRunner ort = new OrtRunner(onnx)) {
            for (Map<String, INDArray> feeds : feedSets) {
                Map<String, INDArray> expected = b.run(feeds, outputs.stream().map(o -> o.contains(":") ? o : o + ":0").toList());
                Map<String, INDArray> actual = model.run(feeds, model.outputNames());
                Map<String, INDArray> exported = ort.run(feeds, model.outputNames());
                for (int i = 0; i < outputs.size(); i++) {
                    INDArray e = expected.values().stream().skip(i).findFirst().orElseThrow();
                    String name = model.outputNames().get(i);
                    assertArrayEquals(e.shape(), actual.get(name).shape(), "shape of " + outputs.get(i));
                    assertClose(e, actual.get(name), outputs.get(i) + " in SameDiff");
                    assertArrayEquals(e.shape(), exported.get(name).shape(), "shape of " + outputs.get(i) + " in ONNX Runtime");
                    assertClose(e, exported.get(name), outputs.get(i) + " exported, in ONNX Runtime");
                }
            }
        }
        return model;
    }

    static void assertClose(INDArray expected, INDArray actual, String what) {
        INDArray e = expected.castTo(DataType.DOUBLE);
        INDArray a = actual.castTo(DataType.DOUBLE);
        double worst = 0;
        for (long i = 0; i < e.length(); i++) {
            double x = e.getDouble(i);
            double y = a.getDouble(i);
            double err = Math.abs(x - y) - 1e-4 * Math.abs(x);
            worst = Math.max(worst, err);
        }
        assertTrue(worst <= 1e-4, what + ": differs from TensorFlow by " + worst + " beyond the relative part");
    }

    @Test
    void convolutionPoolingAndBatchNormInNhwc() throws Exception {
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            Output<?> x = b.placeholder("x", F, -1, 9, 9, 3);
            Output<?> c1 = b.op("Conv2D", "conv1", x, b.constant("conv1/kernel", rand(1, 3, 3, 3, 4)))
                    .setAttr("strides", new long[]{1, 1, 1, 1}).setAttr("padding", "SAME").build().output(0);
            Output<?> bias = b.op("BiasAdd", "conv1/bias_add", c1, b.constant("conv1/bias", rand(2, 4))).build().output(0);
            INDArray var = rand(3, 4).mul(rand(3, 4)).add(0.5);
            Output<?> bn = b.op("FusedBatchNormV3", "bn1", bias, b.constant("bn1/gamma", rand(4, 4)), b.constant("bn1/beta", rand(5, 4)),
                    b.constant("bn1/mean", rand(6, 4)), b.constant("bn1/var", var))
                    .setAttr("is_training", false).setAttr("epsilon", 0.001f).setAttr("U", F).build().output(0);
            Output<?> r6 = b.op("Relu6", "relu6", bn).build().output(0);
            Output<?> dw = b.op("DepthwiseConv2dNative", "dw", r6, b.constant("dw/kernel", rand(7, 3, 3, 4, 2)))
                    .setAttr("strides", new long[]{1, 2, 2, 1}).setAttr("padding", "SAME").build().output(0);
            Output<?> mp = b.op("MaxPool", "maxpool", dw).setAttr("ksize", new long[]{1, 2, 2, 1})
                    .setAttr("strides", new long[]{1, 1, 1, 1}).setAttr("padding", "VALID").build().output(0);
            Output<?> ap = b.op("AvgPool", "avgpool", mp).setAttr("ksize", new long[]{1, 3, 3, 1})
                    .setAttr("strides", new long[]{1, 2, 2, 1}).setAttr("padding", "SAME").build().output(0);
            Output<?> c2 = b.op("Conv2D", "conv2", r6, b.constant("conv2/kernel", rand(8, 2, 2, 4, 5)))
                    .setAttr("strides", new long[]{1, 1, 1, 1}).setAttr("dilations", new long[]{1, 2, 2, 1})
                    .setAttr("padding", "VALID").build().output(0);
            Output<?> mean = b.op("Mean", "gap", c2, b.constant("gap/axes", ints(1, 2))).setAttr("keep_dims", false).build().output(0);
            Output<?> logits = b.op("MatMul", "logits", mean, b.constant("dense/kernel", rand(9, 5, 3))).build().output(0);
            b.op("Softmax", "probabilities", logits).build();
            GraftModel m = check(b, List.of("probabilities", "avgpool", "bn1"),
                    List.of(Map.of("x", rand(10, 1, 9, 9, 3)), Map.of("x", rand(11, 3, 9, 9, 3))));
            assertTrue(m.parameterNames().contains("conv1/kernel"), "frozen weights become trainable variables under their TensorFlow names");
            assertEquals("tensorflow-graphdef", m.source().format());
        }
    }

    /** A float64 graph imports as float64 and matches TensorFlow to double precision. */
    @Test
    void float64GraphsStayFloat64() throws Exception {
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            org.tensorflow.proto.DataType d = org.tensorflow.proto.DataType.DT_DOUBLE;
            Output<?> x = b.placeholder("x", d, -1, 6, 6, 2);
            Output<?> c = b.op("Conv2D", "conv", x, b.constant("conv/kernel", rand(1, 3, 3, 2, 3).castTo(DataType.DOUBLE)))
                    .setAttr("strides", new long[]{1, 1, 1, 1}).setAttr("padding", "SAME").build().output(0);
            Output<?> r = b.op("Relu", "relu", b.op("BiasAdd", "bias", c, b.constant("conv/bias", rand(2, 3).castTo(DataType.DOUBLE))).build().output(0)).build().output(0);
            Output<?> m = b.op("Mean", "gap", r, b.constant("axes", ints(1, 2))).build().output(0);
            b.op("Softmax", "out", b.op("MatMul", "dense", m, b.constant("dense/kernel", rand(3, 3, 4).castTo(DataType.DOUBLE))).build().output(0)).build();
            Path pb = b.save(dir, "f64.pb");
            GraftModel model = Graft.load(pb);
            assertEquals(DataType.DOUBLE, model.inputs().get(0).dataType());
            INDArray in = rand(4, 3, 6, 6, 2).castTo(DataType.DOUBLE);
            INDArray expected = b.run(Map.of("x", in), List.of("out:0")).get("out:0");
            INDArray got = model.run(Map.of("x", in), List.of("out")).get("out");
            assertEquals(DataType.DOUBLE, got.dataType());
            double err = expected.sub(got).amaxNumber().doubleValue();
            assertTrue(err < 1e-12, "float64 differs from TensorFlow by " + err);
        }
    }

    /** MaxPoolV2 (what tf.nn.maxPool writes today) takes ksize and strides as inputs. */
    @Test
    void maxPoolV2() throws Exception {
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            Output<?> x = b.placeholder("x", F, -1, 7, 7, 3);
            b.op("MaxPoolV2", "pool", x, b.constant("ksize", ints(1, 3, 3, 1)), b.constant("strides", ints(1, 2, 2, 1)))
                    .setAttr("padding", "SAME").build();
            check(b, List.of("pool"), List.of(Map.of("x", rand(1, 1, 7, 7, 3)), Map.of("x", rand(2, 4, 7, 7, 3))));
        }
    }

    @Test
    void transposedConvolution() throws Exception {
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            Output<?> x = b.placeholder("x", F, 2, 4, 4, 3);
            b.op("Conv2DBackpropInput", "deconv", b.constant("deconv/sizes", ints(2, 8, 8, 5)), b.constant("deconv/kernel", rand(1, 3, 3, 5, 3)), x)
                    .setAttr("strides", new long[]{1, 2, 2, 1}).setAttr("padding", "SAME").build();
            check(b, List.of("deconv"), List.of(Map.of("x", rand(2, 2, 4, 4, 3))));
        }
    }

    @Test
    void elementwiseMathAndActivations() throws Exception {
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            Output<?> x = b.placeholder("x", F, -1, 6);
            Output<?> y = b.placeholder("y", F, -1, 6);
            Output<?> pos = b.op("AddV2", "pos", b.op("Abs", "abs", x).build().output(0), b.constant("one", Nd4j.scalar(1f))).build().output(0);
            String[][] binary = {{"Add", "add"}, {"Sub", "sub"}, {"Mul", "mul"}, {"RealDiv", "div"}, {"Maximum", "max"},
                    {"Minimum", "min"}, {"SquaredDifference", "sqdiff"}};
            List<String> outs = new java.util.ArrayList<>();
            for (String[] op : binary) {
                b.op(op[0], op[1], x, y).build();
                outs.add(op[1]);
            }
            b.op("Pow", "pow", pos, b.constant("exponent", Nd4j.createFromArray(0.5f, 1f, 2f, 3f, -1f, 1.5f))).build();
            outs.add("pow");
            for (String op : List.of("Rsqrt", "Sqrt", "Log")) {
                b.op(op, op.toLowerCase(), pos).build();
                outs.add(op.toLowerCase());
            }
            for (String op : List.of("Square", "Exp", "Neg", "Erf", "Elu", "Selu", "Sigmoid", "Tanh", "Relu", "Softmax", "LogSoftmax")) {
                b.op(op, op.toLowerCase(), x).build();
                outs.add(op.toLowerCase());
            }
            b.op("LeakyRelu", "leaky", x).setAttr("alpha", 0.1f).build();
            outs.add("leaky");
            b.op("Cast", "cast", b.op("Mul", "scaled", x, b.constant("ten", Nd4j.scalar(10f))).build().output(0))
                    .setAttr("DstT", I32).build();
            outs.add("cast");
            check(b, outs, List.of(Map.of("x", rand(1, 4, 6), "y", rand(2, 4, 6)), Map.of("x", rand(3, 1, 6), "y", rand(4, 1, 6))));
        }
    }

    @Test
    void shapeOps() throws Exception {
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            Output<?> x = b.placeholder("x", F, -1, 4, 6);
            // Reshape to [batch, 24] with the batch taken from tf.shape at run time (Shape, StridedSlice, Pack).
            Output<?> shape = b.op("Shape", "shape", x).setAttr("out_type", I32).build().output(0);
            Output<?> batch = b.op("StridedSlice", "batch", shape, b.constant("b0", ints(0)), b.constant("b1", ints(1)), b.constant("b2", ints(1)))
                    .setAttr("shrink_axis_mask", 1L).build().output(0);
            Output<?> target = b.listOp("Pack", "target", new Output<?>[]{batch, b.constant("n24", Nd4j.scalar(24))}).setAttr("axis", 0L).build().output(0);
            Output<?> flat = b.op("Reshape", "flat", x, target).build().output(0);
            b.op("Reshape", "reshaped", x, b.constant("rs", ints(-1, 2, 12))).build();
            Output<?> ex = b.op("ExpandDims", "expand", x, b.constant("ax", Nd4j.scalar(1))).build().output(0);
            b.op("Squeeze", "squeeze", ex).setAttr("squeeze_dims", new long[]{1}).build();
            b.listOp("ConcatV2", "concat", new Output<?>[]{flat, flat}, b.constant("cax", Nd4j.scalar(-1))).build();
            b.op("Unpack", "unpack", x).setAttr("num", 4L).setAttr("axis", 1L).build();
            b.op("StridedSlice", "ss", x, b.constant("s0", ints(0, 1, 5)), b.constant("s1", ints(0, 4, 0)), b.constant("s2", ints(1, 2, -2)))
                    .setAttr("begin_mask", 1L).setAttr("end_mask", 5L).build();
            // x[..., tf.newaxis, -3:, 1] and x[1:, ::-1] (ellipsis, new axis, shrink, negative begin and stride)
            b.op("StridedSlice", "ss_ellipsis", x, b.constant("e0", ints(0, 0, -3, 1)), b.constant("e1", ints(0, 0, 0, 2)), b.constant("e2", ints(1, 1, 1, 1)))
                    .setAttr("ellipsis_mask", 1L).setAttr("new_axis_mask", 2L).setAttr("end_mask", 4L).setAttr("shrink_axis_mask", 8L).build();
            b.op("StridedSlice", "ss_reverse", x, b.constant("r0b", ints(1, 0)), b.constant("r1b", ints(0, 0)), b.constant("r2b", ints(1, -1)))
                    .setAttr("end_mask", 3L).setAttr("begin_mask", 2L).build();
            b.op("Slice", "slice", x, b.constant("sl0", ints(0, 1, 2)), b.constant("sl1", ints(-1, 2, 3))).build();
            b.op("Split", "split", b.constant("spax", Nd4j.scalar(2)), x).setAttr("num_split", 3L).build();
            b.op("SplitV", "splitv", x, b.constant("spsz", ints(1, -1)), b.constant("spvax", Nd4j.scalar(1))).setAttr("num_split", 2L).build();
            b.op("Pad", "pad", x, b.constant("pads", Nd4j.createFromArray(new int[][]{{0, 0}, {1, 2}, {0, 1}}))).build();
            b.op("PadV2", "padv2", x, b.constant("pads2", Nd4j.createFromArray(new int[][]{{0, 0}, {1, 0}, {2, 1}})), b.constant("pv", Nd4j.scalar(3f))).build();
            b.op("MirrorPad", "mirror", x, b.constant("pads3", Nd4j.createFromArray(new int[][]{{0, 0}, {1, 2}, {2, 1}}))).setAttr("mode", "REFLECT").build();
            b.op("MirrorPad", "symmetric", x, b.constant("pads4", Nd4j.createFromArray(new int[][]{{0, 0}, {1, 2}, {2, 1}}))).setAttr("mode", "SYMMETRIC").build();
            b.op("Transpose", "transpose", x, b.constant("perm", ints(2, 0, 1))).build();
            b.op("GatherV2", "gather", x, b.constant("gidx", ints(5, 0, 5, 2)), b.constant("gax", Nd4j.scalar(2))).build();
            b.op("Tile", "tile", x, b.constant("mult", ints(1, 2, 3))).build();
            for (String r : List.of("Sum", "Max", "Min", "Prod", "Mean")) {
                b.op(r, r.toLowerCase(), x, b.constant(r + "/axes", ints(-1))).setAttr("keep_dims", r.equals("Sum")).build();
            }
            b.op("BatchMatMulV2", "bmm", x, b.constant("bw", rand(5, 6, 3))).build();
            b.op("BatchMatMulV2", "bmm_adj", x, x).setAttr("adj_y", true).build();
            Output<?> filled = b.op("Fill", "fill", b.constant("fd", ints(2, 3)), b.constant("fv", Nd4j.scalar(1.5f))).build().output(0);
            b.op("Range", "range", b.constant("r0", Nd4j.scalar(1)), b.constant("r1", Nd4j.scalar(10)), b.constant("r2", Nd4j.scalar(3))).build();
            b.op("AddV2", "fill_used", filled, b.constant("fz", Nd4j.zeros(DataType.FLOAT, 2, 3))).build();
            List<String> outs = List.of("flat", "reshaped", "squeeze", "concat", "unpack:0", "unpack:3", "shape", "ss", "ss_ellipsis", "ss_reverse", "slice", "split:0",
                    "split:2", "splitv:0", "splitv:1", "pad", "padv2", "mirror", "symmetric", "transpose", "gather", "tile", "sum", "max",
                    "min", "prod", "mean", "bmm", "bmm_adj", "fill_used", "range");
            check(b, outs, List.of(Map.of("x", rand(1, 2, 4, 6)), Map.of("x", rand(2, 5, 4, 6))));
        }
    }

    @Test
    void imageResizing() throws Exception {
        try (TfGraphBuilder b = new TfGraphBuilder()) {
            Output<?> x = b.placeholder("x", F, -1, 5, 7, 2);
            b.op("ResizeBilinear", "bilinear", x, b.constant("size1", ints(10, 14))).setAttr("half_pixel_centers", true).build();
            b.op("ResizeBilinear", "bilinear_ac", x, b.constant("size2", ints(9, 4))).setAttr("align_corners", true).build();
            b.op("ResizeNearestNeighbor", "nearest", x, b.constant("size3", ints(10, 14))).build();
            b.op("ResizeNearestNeighbor", "nearest_hp", x, b.constant("size4", ints(8, 5))).setAttr("half_pixel_centers", true).build();
            b.op("ResizeNearestNeighbor", "nearest_ac", x, b.constant("size5", ints(8, 11))).setAttr("align_corners", true).build();
            check(b, List.of("bilinear", "bilinear_ac", "nearest", "nearest_hp", "nearest_ac"),
                    List.of(Map.of("x", rand(1, 1, 5, 7, 2)), Map.of("x", rand(2, 3, 5, 7, 2))));
        }
    }
}
