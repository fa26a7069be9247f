package dev.graft.onnx.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.graft.GraftModel;
import dev.graft.onnx.OnnxTensors;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.DeConv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Channels-last SameDiff graphs in exactly the forms the TensorFlow importer makes (conv2d / depthwise_conv2d /
 * deconv2d NHWC with TensorFlow's HWIO weights, biasAdd on the last axis, batch normalization as arithmetic with
 * [C] operands, NHWC pooling, reductions over H and W, activations, residual adds, concat on axis 3, image
 * resizes, pads) exported to ONNX: ONNX Runtime's output equals SameDiff's (1e-4, batch 1 and 3), convolutions
 * run channels first with no Transpose between them, and the Transposes left are the input's one (plus one
 * where an NHWC output must be given back).
 */
class NhwcExportTest {

    /** float32 convolutions of up to a few hundred products, summed in another order by ONNX Runtime. */
    private static final double TOL = 1e-4;

    // ---------------------------------------------------------------- building blocks, as the importer writes them

    private static SDVariable weight(SameDiff sd, String name, double scale, long... shape) {
        return sd.var(name, Nd4j.rand(DataType.FLOAT, shape).subi(0.5).muli(scale));
    }

    private static Conv2DConfig convConfig(long k, long stride, PaddingMode mode) {
        return Conv2DConfig.builder().kH(k).kW(k).sH(stride).sW(stride).dH(1).dW(1).paddingMode(mode)
                .dataFormat(Conv2DConfig.NHWC).weightsFormat(WeightsFormat.YXIO).build();
    }

    /** TensorFlow's Conv2D (HWIO weights) then BiasAdd. */
    private static SDVariable conv(SameDiff sd, String name, SDVariable x, long k, long in, long out, long stride,
                                   PaddingMode mode) {
        SDVariable y = sd.cnn().conv2d(x, weight(sd, name + "_w", 1, k, k, in, out), convConfig(k, stride, mode));
        return sd.nn().biasAdd(y, weight(sd, name + "_b", 0.2, out), false);
    }

    /** DepthwiseConv2dNative ([kH, kW, C, multiplier] weights) then BiasAdd. */
    private static SDVariable depthwise(SameDiff sd, String name, SDVariable x, long k, long channels, long stride,
                                        PaddingMode mode) {
        SDVariable y = sd.cnn().depthWiseConv2d(x, weight(sd, name + "_w", 1, k, k, channels, 1), convConfig(k, stride, mode));
        return sd.nn().biasAdd(y, weight(sd, name + "_b", 0.2, channels), false);
    }

    /** FusedBatchNorm as the importer writes it: x * a + c over the last axis, a and c computed from the variables. */
    private static SDVariable batchNorm(SameDiff sd, String name, SDVariable x, long channels) {
        SDVariable gamma = sd.var(name + "_gamma", Nd4j.rand(DataType.FLOAT, channels).addi(0.5));
        SDVariable beta = weight(sd, name + "_beta", 0.4, channels);
        SDVariable mean = weight(sd, name + "_mean", 0.4, channels);
        SDVariable var = sd.var(name + "_var", Nd4j.rand(DataType.FLOAT, channels).addi(0.5));
        SDVariable a = gamma.mul(sd.math().rsqrt(var.add(1e-3)));
        SDVariable c = beta.sub(mean.mul(a));
        return x.mul(a).add(c);
    }

    private static Pooling2DConfig poolConfig(long k, long stride, PaddingMode mode) {
        return Pooling2DConfig.builder().kH(k).kW(k).sH(stride).sW(stride).isNHWC(true).paddingMode(mode).build();
    }

    /** TensorFlow's ResizeNearestNeighbor (SameDiff has no method for it; the importer makes the op by name). */
    private static SDVariable resizeNearest(SameDiff sd, SDVariable x, int h, int w, boolean alignCorners, boolean halfPixel) {
        SDVariable size = sd.constant(Nd4j.createFromArray(h, w));
        DynamicCustomOp op = new DynamicCustomOp(sd, new SDVariable[]{x, size}) {
            @Override
            public String opName() {
                return "resize_nearest_neighbor";
            }

            @Override
            public List<DataType> calculateOutputDataTypes(List<DataType> in) {
                return List.of(in.get(0));
            }
        };
        op.addBArgument(alignCorners, halfPixel);
        return op.outputVariable();
    }

    private static SDVariable pad(SameDiff sd, SDVariable x, int top, int bottom, int left, int right) {
        return sd.nn().pad(x, sd.constant(Nd4j.createFromArray(new int[][]{{0, 0}, {top, bottom}, {left, right}, {0, 0}})), 0.0);
    }

    // ---------------------------------------------------------------- every form on its own

    private record Form(long[] dims, int opset, BiFunction<SameDiff, SDVariable, SDVariable> body) {
    }

    private static Arguments form(String name, long[] dims, BiFunction<SameDiff, SDVariable, SDVariable> body) {
        return form(name, dims, OnnxExporter.DEFAULT_OPSET, body);
    }

    private static Arguments form(String name, long[] dims, int opset, BiFunction<SameDiff, SDVariable, SDVariable> body) {
        return Arguments.of(Named.of(name, new Form(dims, opset, body)));
    }

    static Stream<Arguments> forms() {
        long[] img = {9, 8, 3};
        return Stream.of(
                form("conv2d SAME, bias input", img, (sd, x) -> sd.cnn().conv2d(x, weight(sd, "w", 1, 3, 3, 3, 4),
                        weight(sd, "b", 1, 4), convConfig(3, 1, PaddingMode.SAME))),
                form("conv2d VALID stride 2 + biasAdd", img, (sd, x) -> conv(sd, "c", x, 3, 3, 5, 2, PaddingMode.VALID)),
                form("depthwise_conv2d SAME + biasAdd", img, (sd, x) -> depthwise(sd, "d", x, 3, 3, 1, PaddingMode.SAME)),
                form("depthwise_conv2d VALID stride 2, multiplier 2", img, (sd, x) -> sd.cnn().depthWiseConv2d(x,
                        weight(sd, "w", 1, 3, 3, 3, 2), convConfig(3, 2, PaddingMode.VALID))),
                form("deconv2d SAME stride 2 (Conv2DBackpropInput)", new long[]{4, 5, 3}, (sd, x) -> sd.cnn().deconv2d(x,
                        weight(sd, "w", 1, 3, 3, 2, 3), DeConv2DConfig.builder().kH(3).kW(3).sH(2).sW(2).dH(1).dW(1)
                                .isSameMode(true).dataFormat(DeConv2DConfig.NHWC).build())),
                form("biasAdd, channels last", img, (sd, x) -> sd.nn().biasAdd(x, weight(sd, "b", 1, 3), false)),
                form("batch norm as arithmetic", img, (sd, x) -> batchNorm(sd, "bn", x, 3)),
                form("maxPooling2d SAME", img, (sd, x) -> sd.cnn().maxPooling2d(x, poolConfig(3, 2, PaddingMode.SAME))),
                form("maxPooling2d VALID", img, (sd, x) -> sd.cnn().maxPooling2d(x, poolConfig(2, 2, PaddingMode.VALID))),
                form("avgPooling2d SAME", img, (sd, x) -> sd.cnn().avgPooling2d(x, poolConfig(3, 2, PaddingMode.SAME))),
                form("avgPooling2d VALID", img, (sd, x) -> sd.cnn().avgPooling2d(x, poolConfig(2, 1, PaddingMode.VALID))),
                form("mean over H, W", img, (sd, x) -> sd.mean(x, false, 1, 2)),
                form("mean over H, W, keepDims", img, (sd, x) -> sd.mean(x, true, 1, 2)),
                form("sum over H, W", img, (sd, x) -> sd.sum(x, false, 1, 2)),
                form("max over H, W", img, (sd, x) -> sd.max(x, false, 1, 2)),
                form("relu", img, (sd, x) -> sd.nn().relu(x, 0)),
                form("relu6", img, (sd, x) -> sd.nn().relu6(x, 0)),
                form("elu", img, (sd, x) -> sd.nn().elu(x)),
                form("selu", img, (sd, x) -> sd.nn().selu(x)),
                form("leakyrelu", img, (sd, x) -> sd.nn().leakyRelu(x, 0.2)),
                form("sigmoid", img, (sd, x) -> sd.nn().sigmoid(x)),
                form("tanh", img, (sd, x) -> sd.math().tanh(x)),
                form("residual add", img, (sd, x) -> x.add(sd.nn().relu6(x, 0))),
                form("concat on axis 3", img, (sd, x) -> sd.concat(3, x, sd.nn().relu(x, 0))),
                form("pad", img, (sd, x) -> pad(sd, x, 1, 2, 0, 1)),
                form("resizeBiLinear", img, (sd, x) -> sd.image().resizeBiLinear(x, 14, 11, false, false)),
                form("resizeBiLinear, half pixel centers", img, (sd, x) -> sd.image().resizeBiLinear(x, 14, 11, false, true)),
                form("resizeBiLinear, align corners", img, (sd, x) -> sd.image().resizeBiLinear(x, 14, 11, true, false)),
                form("resizeBiLinear, half pixel centers, opset 18", img, 18,
                        (sd, x) -> sd.image().resizeBiLinear(x, 5, 6, false, true)),
                form("resize_nearest_neighbor", img, (sd, x) -> resizeNearest(sd, x, 14, 11, false, false)),
                form("resize_nearest_neighbor, half pixel centers", img, (sd, x) -> resizeNearest(sd, x, 14, 11, false, true)),
                form("resize_nearest_neighbor, align corners", img, (sd, x) -> resizeNearest(sd, x, 14, 11, true, false)),
                form("resize_nearest_neighbor, downsampling, opset 18", img, 18, (sd, x) -> resizeNearest(sd, x, 5, 3, false, true)));
    }

    @ParameterizedTest
    @MethodSource("forms")
    void formExportsAndMatchesSameDiff(Form f) {
        Nd4j.getRandom().setSeed(3);
        SameDiff sd = SameDiff.create();
        long[] shape = new long[f.dims().length + 1];
        shape[0] = -1;
        System.arraycopy(f.dims(), 0, shape, 1, f.dims().length);
        f.body().apply(sd, sd.placeHolder("x", DataType.FLOAT, shape)).rename("y");
        ModelProto m = exportAndCompare(sd, shape, List.of("y"), f.opset(), null);
        assertTrue(transposes(m) <= 2, "at most the input's and the output's Transpose: " + opTypes(m));
    }

    // ---------------------------------------------------------------- whole networks

    /**
     * (a) A small CNN: conv -> biasAdd -> batch norm -> relu6 -> maxpool -> conv (stride 2) -> biasAdd -> relu6
     * -> mean over H, W -> matmul.
     */
    static SameDiff smallCnn() {
        Nd4j.getRandom().setSeed(11);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 12, 12, 3);
        SDVariable h = conv(sd, "conv1", x, 3, 3, 8, 1, PaddingMode.SAME);
        h = sd.nn().relu6(batchNorm(sd, "bn1", h, 8), 0);
        h = sd.cnn().maxPooling2d(h, poolConfig(2, 2, PaddingMode.SAME));
        h = sd.nn().relu6(conv(sd, "conv2", h, 3, 8, 16, 2, PaddingMode.VALID), 0);
        h = sd.mean(h, false, 1, 2);
        sd.mmul("logits", h, weight(sd, "fc_w", 1, 16, 5));
        return sd;
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 17, 21})
    void smallCnnRunsChannelsFirstWithOnlyTheInputTransposed(int opset) {
        SameDiff sd = smallCnn();
        ModelProto m = exportAndCompare(sd, new long[]{-1, 12, 12, 3}, List.of("logits"), opset, "small_cnn");
        assertEquals(List.of(), transposesBetweenConvs(m));
        assertEquals(1, transposes(m), "only the input's Transpose: " + opTypes(m));
        assertEquals(2, count(m, "Conv"));
        assertEquals(1, count(m, "MaxPool"));
        System.out.printf("NHWC small CNN, opset %d: %d Transposes, nodes %s%n", opset, transposes(m), opTypes(m));
    }

    /** Convolution weights are stored as ONNX's OIHW under the variable's name, with the layout documented. */
    @Test
    void convolutionWeightsAreStoredInOnnxLayoutUnderTheirNames() {
        SameDiff sd = smallCnn();
        ModelProto m = new OnnxExporter().export(GraftModel.of(sd, List.of("logits")), OnnxExporter.Options.defaults()).model();
        Map<String, TensorProto> inits = new HashMap<>();
        m.getGraph().getInitializerList().forEach(t -> inits.put(t.getName(), t));
        TensorProto w = inits.get("conv2_w");
        INDArray hwio = sd.getVariable("conv2_w").getArr();
        assertEquals(hwio.permute(3, 2, 0, 1), OnnxTensors.toArray(w, null, "conv2_w"));
        assertTrue(w.getDocString().contains("[O, I / group, k...]") && w.getDocString().contains("[3, 3, 8, 16]"),
                w.getDocString());
        for (NodeProto n : m.getGraph().getNodeList()) {
            if (n.getOpType().equals("Conv")) assertTrue(n.getInput(1).endsWith("_w"), "Conv reads the weight itself: " + n);
        }
        // Biases and the dense layer's weights keep SameDiff's layout.
        assertEquals(sd.getVariable("fc_w").getArr(), OnnxTensors.toArray(inits.get("fc_w"), null, "fc_w"));
        assertEquals(sd.getVariable("conv1_b").getArr(), OnnxTensors.toArray(inits.get("conv1_b"), null, "conv1_b"));
    }

    /**
     * (b) MobileNet-style: stem conv, then an inverted residual block (1x1 expand, 3x3 depthwise, 1x1 project,
     * each with batch norm, relu6 between) added to its input, then a strided block without residual, global
     * mean and a dense layer.
     */
    static SameDiff invertedResidual() {
        Nd4j.getRandom().setSeed(12);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 10, 10, 3);
        SDVariable stem = sd.nn().relu6(batchNorm(sd, "stem_bn", conv(sd, "stem", x, 3, 3, 8, 1, PaddingMode.SAME), 8), 0);
        SDVariable h = block(sd, "b1", stem, 8, 24, 8, 1);
        SDVariable y = stem.add(h);
        y = block(sd, "b2", y, 8, 16, 12, 2);
        SDVariable pooled = sd.mean(y, false, 1, 2);
        sd.mmul("logits", pooled, weight(sd, "fc_w", 1, 12, 4));
        return sd;
    }

    private static SDVariable block(SameDiff sd, String name, SDVariable x, long in, long expanded, long out, long stride) {
        SDVariable h = sd.nn().relu6(batchNorm(sd, name + "_bn1", conv(sd, name + "_expand", x, 1, in, expanded, 1,
                PaddingMode.SAME), expanded), 0);
        h = sd.nn().relu6(batchNorm(sd, name + "_bn2", depthwise(sd, name + "_dw", h, 3, expanded, stride, PaddingMode.SAME),
                expanded), 0);
        return batchNorm(sd, name + "_bn3", conv(sd, name + "_project", h, 1, expanded, out, 1, PaddingMode.SAME), out);
    }

    @Test
    void invertedResidualRunsChannelsFirstWithOnlyTheInputTransposed() {
        SameDiff sd = invertedResidual();
        ModelProto m = exportAndCompare(sd, new long[]{-1, 10, 10, 3}, List.of("logits"), OnnxExporter.DEFAULT_OPSET,
                "inverted_residual");
        assertEquals(List.of(), transposesBetweenConvs(m));
        assertEquals(1, transposes(m), "only the input's Transpose: " + opTypes(m));
        assertEquals(7, count(m, "Conv"));
        System.out.printf("NHWC inverted residual: %d Transposes, nodes %s%n", transposes(m), opTypes(m));
    }

    /**
     * The block right at the input (the residual add reads the graph input) with its NHWC sum as the output:
     * the input's Transpose and one giving the output back in NHWC.
     */
    static SameDiff residualOnTheInput() {
        Nd4j.getRandom().setSeed(13);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 7, 6, 8);
        x.add("y", block(sd, "b", x, 8, 16, 8, 1));
        return sd;
    }

    @Test
    void residualOnTheInputWithAChannelsLastOutput() {
        ModelProto m = exportAndCompare(residualOnTheInput(), new long[]{-1, 7, 6, 8}, List.of("y"), OnnxExporter.DEFAULT_OPSET,
                "residual_on_input");
        assertEquals(List.of(), transposesBetweenConvs(m));
        assertEquals(2, transposes(m), "the input's and the output's Transpose: " + opTypes(m));
    }

    /** (c) Concat of two branches on axis 3, pad, resizes (bilinear and nearest) between convolutions, NHWC output. */
    static SameDiff concatPadResize() {
        Nd4j.getRandom().setSeed(14);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 8, 8, 3);
        SDVariable h = sd.nn().relu(conv(sd, "c1", x, 3, 3, 6, 1, PaddingMode.SAME), 0);
        SDVariable left = sd.nn().relu(conv(sd, "left", h, 1, 6, 4, 1, PaddingMode.SAME), 0);
        SDVariable right = sd.nn().relu6(conv(sd, "right", h, 3, 6, 4, 1, PaddingMode.SAME), 0);
        h = sd.concat(3, left, right);
        h = sd.nn().relu(conv(sd, "c2", pad(sd, h, 1, 1, 1, 1), 3, 8, 6, 2, PaddingMode.VALID), 0);
        h = sd.image().resizeBiLinear(h, 8, 8, false, true);
        h = sd.nn().elu(conv(sd, "c3", h, 3, 6, 6, 1, PaddingMode.SAME));
        h = resizeNearest(sd, h, 16, 16, false, false);
        h = conv(sd, "c4", h, 3, 6, 2, 1, PaddingMode.SAME);
        sd.math().tanh("y", h);
        return sd;
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 17, 21})
    void concatPadAndResizesBetweenConvolutions(int opset) {
        ModelProto m = exportAndCompare(concatPadResize(), new long[]{-1, 8, 8, 3}, List.of("y"), opset, "concat_pad_resize");
        assertEquals(List.of(), transposesBetweenConvs(m));
        assertEquals(2, transposes(m), "the input's and the output's Transpose: " + opTypes(m));
        assertEquals(2, count(m, "Resize"));
        System.out.printf("NHWC concat/pad/resize, opset %d: %d Transposes, nodes %s%n", opset, transposes(m), opTypes(m));
    }

    /**
     * A convolution's output read by three branches (a squeeze-and-excitation gate from global pooling kept as
     * [N, 1, 1, C], a gated relu, a tanh) that meet again: pushing the Transpose adds some at the branch for a
     * while, and they all cancel further down.
     */
    static SameDiff branches() {
        Nd4j.getRandom().setSeed(15);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 6, 6, 4);
        SDVariable h = conv(sd, "c1", x, 3, 4, 6, 1, PaddingMode.SAME);
        SDVariable gate = sd.nn().sigmoid(sd.mean(h, true, 1, 2));
        SDVariable a = sd.nn().relu(h.mul(gate), 0);
        SDVariable b = sd.math().tanh(h);
        SDVariable y = conv(sd, "c2", a, 1, 6, 3, 1, PaddingMode.SAME).add(conv(sd, "c3", b, 1, 6, 3, 1, PaddingMode.SAME));
        sd.max("y", y, false, 1, 2);
        return sd;
    }

    @Test
    void branchesThatMeetAgain() {
        ModelProto m = exportAndCompare(branches(), new long[]{-1, 6, 6, 4}, List.of("y"), OnnxExporter.DEFAULT_OPSET, "branches");
        assertEquals(List.of(), transposesBetweenConvs(m));
        assertEquals(1, transposes(m), "only the input's Transpose: " + opTypes(m));
    }

    /**
     * ONNX-imported (channels-first) models export exactly as before the transpose passes existed: node counts
     * with source nodes written back and with every op spelled out. (Spelled out, a BatchNormalization is its
     * scale and shift computed on [C] vectors and two Reshapes to [C, 1, 1]: 131 and 725 nodes before the
     * importer stopped reshaping the four inputs instead, two Reshapes fewer per node.)
     */
    @Test
    void channelsFirstImportsExportAsBefore() {
        Map<String, int[]> nodes = new java.util.LinkedHashMap<>();
        nodes.put("resnet_small", new int[]{31, 113});
        nodes.put("mobilenet_v2", new int[]{152, 621});
        nodes.put("squeezenet", new int[]{65, 65});
        nodes.put("mlp_layernorm_gelu", new int[]{15, 36});
        nodes.put("transformer_encoder", new int[]{94, 225});
        nodes.put("deep_mlp_500", new int[]{306, 688});
        nodes.forEach((name, expected) -> {
            GraftModel model = dev.graft.Graft.load(OnnxExporterTest.MODELS.resolve(name).resolve("model.onnx"));
            ModelProto kept = new OnnxExporter().export(model, OnnxExporter.Options.defaults()).model();
            ModelProto spelled = new OnnxExporter().export(model, OnnxExporter.Options.defaults().withSourceNodes(false)).model();
            assertEquals(expected[0], kept.getGraph().getNodeCount(), name + ", source nodes written back");
            assertEquals(expected[1], spelled.getGraph().getNodeCount(), name + ", spelled out");
            int transposes = name.equals("transformer_encoder") ? 9 : 0;
            assertEquals(transposes, transposes(kept), name);
            assertEquals(transposes, transposes(spelled), name);
        });
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Exports and compares ONNX Runtime with SameDiff at batch 1 and 3. A named export up to opset 17 is kept in
     * target/exported-models/nhwc for ONNX's checker (.ci/run; Debian's checker knows opsets up to 17).
     */
    private static ModelProto exportAndCompare(SameDiff sd, long[] shape, List<String> outputs, int opset, String keepAs) {
        GraftModel model = GraftModel.of(sd, outputs);
        ModelProto m = new OnnxExporter().export(model, OnnxExporter.Options.defaults().withOpset(opset)).model();
        if (keepAs != null && opset <= 17) {
            try {
                java.nio.file.Path dir = OnnxExporterTest.EXPORTED.resolve("nhwc");
                java.nio.file.Files.createDirectories(dir);
                java.nio.file.Files.write(dir.resolve(keepAs + "_opset" + opset + ".onnx"), m.toByteArray());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        try (OrtRunner ort = new OrtRunner(m.toByteArray(), "NHWC export")) {
            for (int batch : new int[]{1, 3}) {
                long[] s = shape.clone();
                s[0] = batch;
                INDArray in = Nd4j.rand(DataType.FLOAT, s).subi(0.5).muli(2);
                Map<String, INDArray> expected = model.run(Map.of("x", in), outputs);
                Map<String, INDArray> actual = ort.run(Map.of("x", in), outputs);
                for (String o : outputs) {
                    assertArrayEquals(expected.get(o).shape(), actual.get(o).shape(), o + " at batch " + batch);
                    Agreement a = Agreement.of(actual.get(o), expected.get(o), TOL, 0);
                    assertTrue(a.within(), o + " at batch " + batch + ", opset " + opset + ": " + a + "\n" + opTypes(m));
                }
            }
        }
        return m;
    }

    static int transposes(ModelProto m) {
        return count(m, "Transpose");
    }

    static int count(ModelProto m, String opType) {
        return (int) m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(opType)).count();
    }

    static List<String> opTypes(ModelProto m) {
        return m.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
    }

    /**
     * Transposes on a path from one convolution to another, found by walking the graph forward from every
     * convolution's output and stopping at the next convolution: "Conv -> Transpose 'name' -> Conv" for each.
     */
    static List<String> transposesBetweenConvs(ModelProto m) {
        Map<String, List<NodeProto>> readers = new HashMap<>();
        for (NodeProto n : m.getGraph().getNodeList()) {
            for (String in : n.getInputList()) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        }
        Set<String> convs = Set.of("Conv", "ConvTranspose");
        List<String> found = new ArrayList<>();
        for (NodeProto start : m.getGraph().getNodeList()) {
            if (!convs.contains(start.getOpType())) continue;
            // (value, first Transpose seen on the way or "") pairs still to follow
            Deque<String[]> work = new ArrayDeque<>();
            Set<String> seen = new HashSet<>();
            start.getOutputList().forEach(o -> work.push(new String[]{o, ""}));
            while (!work.isEmpty()) {
                String[] item = work.pop();
                if (!seen.add(item[0] + "|" + item[1])) continue;
                for (NodeProto n : readers.getOrDefault(item[0], List.of())) {
                    if (convs.contains(n.getOpType())) {
                        if (!item[1].isEmpty()) found.add(start.getName() + " -> Transpose '" + item[1] + "' -> " + n.getName());
                        continue;
                    }
                    String transpose = item[1].isEmpty() && n.getOpType().equals("Transpose") ? n.getName() : item[1];
                    n.getOutputList().forEach(o -> work.push(new String[]{o, transpose}));
                }
            }
        }
        return found;
    }
}
