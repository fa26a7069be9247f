package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.graft.GraftModel;
import dev.graft.onnx.export.OnnxExporter;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv1DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv3DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.DeConv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.DeConv3DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Pooling3DConfig;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The convolution and pooling exporters on SameDiff graphs built by hand, with what the ONNX importer never
 * makes (channels-last data, other weight layouts, SAME and CAUSAL padding, strided and padded transposed
 * convolutions, padding counted in averages): SameDiff's output vs ONNX Runtime's on the export with every op
 * spelled out, at batch 1 and 3 (the batch is dynamic in the exported graph).
 */
class ConvPoolExportTest {

    /** float32 sums of at most a few hundred products, taken in another order by ONNX Runtime: ~1e-6 apart. */
    private static final double TOL = 1e-5;

    /** A graph reading placeholder "x" of shape [batch, dims...] and writing "y". */
    private record Case(long[] dims, int opset, BiFunction<SameDiff, SDVariable, SDVariable> body) {
    }

    private static Arguments of(String name, long[] dims, BiFunction<SameDiff, SDVariable, SDVariable> body) {
        return Arguments.of(Named.of(name, new Case(dims, OnnxExporter.DEFAULT_OPSET, body)));
    }

    private static SDVariable w(SameDiff sd, String name, long... shape) {
        return sd.var(name, Nd4j.rand(DataType.FLOAT, shape).subi(0.5));
    }

    private static Conv2DConfig.Conv2DConfigBuilder conv2d(long k, long s) {
        return Conv2DConfig.builder().kH(k).kW(k).sH(s).sW(s).dataFormat(Conv2DConfig.NCHW).weightsFormat(WeightsFormat.YXIO);
    }

    private static Pooling2DConfig.Pooling2DConfigBuilder pool(long k, long s) {
        return Pooling2DConfig.builder().kH(k).kW(k).sH(s).sW(s).isNHWC(false).paddingMode(PaddingMode.VALID);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                of("conv2d NCHW, padded and strided, bias", new long[]{3, 9, 8}, (sd, x) -> sd.cnn().conv2d("y", x,
                        w(sd, "w", 3, 3, 3, 4), w(sd, "b", 4), conv2d(3, 2).pH(1).pW(2).paddingMode(PaddingMode.VALID).build())),
                of("conv2d NCHW, SAME, stride 2, even size", new long[]{2, 8, 6}, (sd, x) -> sd.cnn().conv2d("y", x,
                        w(sd, "w", 3, 3, 2, 4), null, conv2d(3, 2).paddingMode(PaddingMode.SAME).build())),
                of("conv2d NCHW, SAME, stride 2, kernel 4", new long[]{2, 7, 6}, (sd, x) -> sd.cnn().conv2d("y", x,
                        w(sd, "w", 4, 4, 2, 3), null, conv2d(4, 2).paddingMode(PaddingMode.SAME).build())),
                of("conv2d NCHW, OIYX weights", new long[]{3, 6, 6}, (sd, x) -> sd.cnn().conv2d("y", x,
                        w(sd, "w", 4, 3, 3, 3), w(sd, "b", 4), conv2d(3, 1).weightsFormat(WeightsFormat.OIYX)
                                .paddingMode(PaddingMode.VALID).build())),
                of("conv2d NHWC, OYXI weights, SAME", new long[]{7, 6, 3}, (sd, x) -> sd.cnn().conv2d("y", x,
                        w(sd, "w", 4, 3, 3, 3), w(sd, "b", 4), conv2d(3, 2).weightsFormat(WeightsFormat.OYXI)
                                .dataFormat(Conv2DConfig.NHWC).paddingMode(PaddingMode.SAME).build())),
                of("conv1d NCW, padded", new long[]{3, 10}, (sd, x) -> sd.cnn().conv1d("y", x, w(sd, "w", 3, 3, 4),
                        w(sd, "b", 4), Conv1DConfig.builder().k(3).s(2).p(1).d(1).dataFormat(Conv1DConfig.NCW)
                                .paddingMode(PaddingMode.VALID).build())),
                of("conv1d NWC, causal, dilated", new long[]{10, 3}, (sd, x) -> sd.cnn().conv1d("y", x, w(sd, "w", 3, 3, 4),
                        null, Conv1DConfig.builder().k(3).s(1).p(0).d(2).dataFormat(Conv1DConfig.NWC)
                                .paddingMode(PaddingMode.CAUSAL).build())),
                of("conv3dnew NCDHW, padded, bias", new long[]{2, 5, 6, 5}, (sd, x) -> sd.cnn().conv3d("y", x,
                        w(sd, "w", 2, 3, 3, 2, 3), w(sd, "b", 3), Conv3DConfig.builder().kD(2).kH(3).kW(3).sD(1).sH(2).sW(1)
                                .pD(1).pH(1).pW(0).dD(1).dH(1).dW(1).biasUsed(true).paddingMode(PaddingMode.VALID)
                                .dataFormat(Conv3DConfig.NCDHW).build())),
                of("conv3dnew NDHWC, SAME", new long[]{4, 5, 6, 2}, (sd, x) -> sd.cnn().conv3d("y", x,
                        w(sd, "w", 3, 3, 3, 2, 3), Conv3DConfig.builder().kD(3).kH(3).kW(3).sD(2).sH(2).sW(2)
                                .dD(1).dH(1).dW(1).paddingMode(PaddingMode.SAME).dataFormat(Conv3DConfig.NDHWC).build())),
                of("depthwise_conv2d NCHW, multiplier 2, bias", new long[]{3, 7, 6}, (sd, x) -> sd.cnn().depthWiseConv2d("y",
                        x, w(sd, "w", 3, 3, 3, 2), w(sd, "b", 6), conv2d(3, 2).pH(1).pW(1).paddingMode(PaddingMode.VALID).build())),
                of("depthwise_conv2d NHWC, SAME", new long[]{6, 7, 4}, (sd, x) -> sd.cnn().depthWiseConv2d("y", x,
                        w(sd, "w", 3, 3, 4, 1), null, conv2d(3, 1).dataFormat(Conv2DConfig.NHWC).paddingMode(PaddingMode.SAME).build())),
                of("deconv2d NCHW, padded and strided, bias", new long[]{3, 4, 5}, (sd, x) -> sd.cnn().deconv2d("y", x,
                        w(sd, "w", 3, 3, 2, 3), w(sd, "b", 2), DeConv2DConfig.builder().kH(3).kW(3).sH(2).sW(2).pH(1).pW(0)
                                .dH(1).dW(1).isSameMode(false).dataFormat(DeConv2DConfig.NCHW).build())),
                of("deconv2d NCHW, SAME, kernel 3 stride 2", new long[]{3, 4, 5}, (sd, x) -> sd.cnn().deconv2d("y", x,
                        w(sd, "w", 3, 3, 2, 3), null, DeConv2DConfig.builder().kH(3).kW(3).sH(2).sW(2)
                                .dH(1).dW(1).isSameMode(true).dataFormat(DeConv2DConfig.NCHW).build())),
                of("deconv2d NHWC, SAME, kernel 4 stride 2", new long[]{4, 5, 3}, (sd, x) -> sd.cnn().deconv2d("y", x,
                        w(sd, "w", 4, 4, 2, 3), null, DeConv2DConfig.builder().kH(4).kW(4).sH(2).sW(2)
                                .dH(1).dW(1).isSameMode(true).dataFormat(DeConv2DConfig.NHWC).build())),
                of("deconv2d NCHW, SAME, stride one more than the kernel", new long[]{3, 4, 5}, (sd, x) -> sd.cnn().deconv2d("y", x,
                        w(sd, "w", 2, 2, 2, 3), null, DeConv2DConfig.builder().kH(2).kW(2).sH(3).sW(3)
                                .dH(1).dW(1).isSameMode(true).dataFormat(DeConv2DConfig.NCHW).build())),
                of("deconv3d NCDHW, strided", new long[]{2, 3, 4, 3}, (sd, x) -> sd.cnn().deconv3d("y", x,
                        w(sd, "w", 2, 3, 2, 3, 2), null, DeConv3DConfig.builder().kD(2).kH(3).kW(2).sD(2).sH(1).sW(2)
                                .pD(0).pH(1).pW(0).dD(1).dH(1).dW(1).isSameMode(false).dataFormat(DeConv3DConfig.NCDHW).build())),
                of("maxpool2d NCHW, padded", new long[]{3, 7, 8}, (sd, x) -> sd.cnn().maxPooling2d("y", x,
                        pool(3, 2).pH(1).pW(1).build())),
                of("maxpool2d NHWC, SAME", new long[]{7, 8, 3}, (sd, x) -> sd.cnn().maxPooling2d("y", x,
                        pool(3, 2).isNHWC(true).paddingMode(PaddingMode.SAME).build())),
                of("avgpool2d NCHW, padding not counted", new long[]{3, 7, 8}, (sd, x) -> sd.cnn().avgPooling2d("y", x,
                        pool(3, 2).pH(1).pW(1).build())),
                of("avgpool2d NCHW, padding counted", new long[]{3, 7, 8}, (sd, x) -> sd.cnn().avgPooling2d("y", x,
                        pool(3, 2).pH(1).pW(1).extra(1).build())),
                of("maxpool3dnew NCDHW, padded", new long[]{2, 5, 7, 6}, (sd, x) -> sd.cnn().maxPooling3d("y", x,
                        Pooling3DConfig.builder().kD(2).kH(3).kW(2).sD(1).sH(2).sW(2).pD(1).pH(1).pW(0)
                                .isSameMode(false).isNCDHW(true).build())),
                of("avgpool3dnew NCDHW, padded", new long[]{2, 5, 7, 6}, (sd, x) -> sd.cnn().avgPooling3d("y", x,
                        Pooling3DConfig.builder().kD(3).kH(2).kW(3).sD(2).sH(1).sW(2).pD(1).pH(0).pW(1)
                                .isSameMode(false).isNCDHW(true).build())),
                of("avgpool3dnew NDHWC, SAME", new long[]{5, 7, 6, 2}, (sd, x) -> sd.cnn().avgPooling3d("y", x,
                        Pooling3DConfig.builder().kD(2).kH(3).kW(2).sD(2).sH(2).sW(1)
                                .isSameMode(true).isNCDHW(false).build())),
                of("avgpool2d NHWC, SAME", new long[]{7, 8, 3}, (sd, x) -> sd.cnn().avgPooling2d("y", x,
                        pool(2, 2).isNHWC(true).paddingMode(PaddingMode.SAME).build())));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void exportMatchesSameDiff(Case c) throws Exception {
        ModelProto m = check(c);
        long transposes = m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Transpose")).count();
        assertTrue(transposes <= 3, "at most data in, data out and weights: " + m.getGraph().getNodeList());
    }

    /** The common layout (NCHW data, weights as the importer leaves them: YXIO behind a permute): one Conv node. */
    @Test
    void importerLayoutCancelsToOneConv() throws Exception {
        ModelProto m = check(new Case(new long[]{3, 6, 6}, OnnxExporter.DEFAULT_OPSET, (sd, x) -> sd.cnn().conv2d("y", x,
                sd.permute(w(sd, "w", 4, 3, 3, 3), 2, 3, 1, 0), w(sd, "b", 4), conv2d(3, 1).paddingMode(PaddingMode.VALID).build())));
        assertEquals(List.of("Conv"), m.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList());
        assertEquals("w", m.getGraph().getNode(0).getInput(1));
    }

    /** Depthwise weights as the importer leaves them (permute of reshape of ONNX's): the ONNX weights are read as they are. */
    @Test
    void importedDepthwiseWeightsAreUsedAsTheyAre() throws Exception {
        ModelProto m = check(new Case(new long[]{3, 6, 6}, OnnxExporter.DEFAULT_OPSET, (sd, x) -> sd.cnn().depthWiseConv2d("y", x,
                sd.permute(sd.reshape(w(sd, "w", 6, 1, 3, 3), 3, 2, 3, 3), 2, 3, 0, 1), null,
                conv2d(3, 1).paddingMode(PaddingMode.VALID).build())));
        assertEquals(List.of("Conv"), m.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList());
        assertEquals("w", m.getGraph().getNode(0).getInput(1));
    }

    /**
     * Dilated pooling (AveragePool takes dilations from opset 19) against the definition, computed here:
     * libnd4j's own dilated pooling gives wrong results (see PoolingOps), so SameDiff is no reference.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void dilatedPoolingMatchesTheDefinition(boolean max) throws Exception {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 2, 9, 10);
        Pooling2DConfig config = pool(2, 2).sW(1).dH(2).dW(3).build();
        if (max) {
            sd.cnn().maxPooling2d("y", x, config);
        } else {
            sd.cnn().avgPooling2d("y", x, config);
        }
        ModelProto m = new OnnxExporter().export(GraftModel.of(sd, List.of("y")),
                OnnxExporter.Options.defaults().withSourceNodes(false).withOpset(19)).model();
        try (OrtRunner ort = new OrtRunner(m.toByteArray(), "exported")) {
            for (int batch : new int[]{1, 3}) {
                INDArray in = Nd4j.rand(DataType.FLOAT, batch, 2, 9, 10);
                // Windows 3 x 4 (kernel 2 x 2 dilated 2 x 3), strides 2 x 1: output 4 x 7; taps at rows 2i + {0, 2}, columns j + {0, 3}.
                INDArray expected = Nd4j.create(DataType.FLOAT, batch, 2, 4, 7);
                for (int n = 0; n < batch; n++) {
                    for (int c = 0; c < 2; c++) {
                        for (int i = 0; i < 4; i++) {
                            for (int j = 0; j < 7; j++) {
                                double acc = max ? Double.NEGATIVE_INFINITY : 0;
                                for (int a = 0; a < 2; a++) {
                                    for (int b = 0; b < 2; b++) {
                                        double v = in.getDouble(n, c, i * 2 + a * 2, j + b * 3);
                                        acc = max ? Math.max(acc, v) : acc + v / 4;
                                    }
                                }
                                expected.putScalar(new long[]{n, c, i, j}, acc);
                            }
                        }
                    }
                }
                INDArray actual = ort.run(Map.of("x", in), List.of("y")).get("y");
                assertArrayEquals(expected.shape(), actual.shape());
                assertTrue(Agreement.of(actual, expected, 1e-6, 1e-6).within(), "batch " + batch);
            }
        }
    }

    /** Dilated average pooling before opset 19 is refused by name. */
    @Test
    void dilatedAveragePoolingNeedsOpset19() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 2, 9, 10);
        sd.cnn().avgPooling2d("y", x, pool(2, 1).dH(2).dW(2).build());
        dev.graft.GraftException e = org.junit.jupiter.api.Assertions.assertThrows(dev.graft.GraftException.class,
                () -> new OnnxExporter().export(GraftModel.of(sd, List.of("y")),
                        OnnxExporter.Options.defaults().withSourceNodes(false).withOpset(18)));
        assertTrue(e.getMessage().contains("opset 19"), e.getMessage());
    }

    private static ModelProto check(Case c) throws Exception {
        Nd4j.getRandom().setSeed(7);
        SameDiff sd = SameDiff.create();
        long[] shape = new long[c.dims().length + 1];
        shape[0] = -1;
        System.arraycopy(c.dims(), 0, shape, 1, c.dims().length);
        SDVariable x = sd.placeHolder("x", DataType.FLOAT, shape);
        c.body().apply(sd, x);
        GraftModel model = GraftModel.of(sd, List.of("y"));
        ModelProto m = new OnnxExporter().export(model,
                OnnxExporter.Options.defaults().withSourceNodes(false).withOpset(c.opset())).model();
        try (OrtRunner ort = new OrtRunner(m.toByteArray(), "exported")) {
            for (int batch : new int[]{1, 3}) {
                shape[0] = batch;
                INDArray in = Nd4j.rand(DataType.FLOAT, shape).subi(0.5);
                INDArray expected = model.run(Map.of("x", in), List.of("y")).get("y");
                INDArray actual = ort.run(Map.of("x", in), List.of("y")).get("y");
                assertArrayEquals(expected.shape(), actual.shape(), "batch " + batch);
                Agreement a = Agreement.of(actual, expected, TOL, TOL);
                assertTrue(a.within(), "batch " + batch + ": " + a);
            }
        }
        return m;
    }
}
