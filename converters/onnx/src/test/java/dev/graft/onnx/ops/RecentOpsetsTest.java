package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.GraftModel;
import dev.graft.onnx.OnnxImporter;
import dev.graft.onnx.OnnxModelReader;
import dev.graft.onnx.export.OnnxExporter;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.verify.Agreement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Op versions of opsets 18 to 21, which Debian's backend suite (onnx 1.12, up to opset 17) does not reach:
 * graft's import against ONNX Runtime 1.23 on the same one-node model and inputs, then the model exported
 * back (written back, spelled out, and spelled out at opset 17) in ONNX Runtime against the same
 * reference. Tolerance 1e-5 absolute plus 1e-4 relative: single float32 ops whose kernels may round
 * differently.
 */
class RecentOpsetsTest {

    @TempDir
    Path tmp;

    private static INDArray rand(long... shape) {
        Nd4j.getRandom().setSeed(shape.length * 31L + shape[0]);
        return Nd4j.rand(DataType.FLOAT, shape).subi(0.5).muli(4);
    }

    private static INDArray longs(long... v) {
        return Nd4j.createFromArray(v);
    }

    static Stream<Arguments> cases() {
        List<Supplier<SingleNodeModel>> models = List.of(
                () -> new SingleNodeModel("Pad", 18).input("x", rand(2, 3, 4)).initializer("pads", longs(1, 2))
                        .initializer("value", Nd4j.scalar(0.5f)).initializer("axes", longs(2)).output("y"),
                () -> new SingleNodeModel("Pad", 21).input("x", rand(2, 3, 4)).initializer("pads", longs(0, 1, 1, 0, 2, 0))
                        .attr("mode", "reflect").output("y"),
                () -> new SingleNodeModel("ReduceMean", 18).input("x", rand(2, 3, 4)).initializer("axes", longs(1))
                        .attr("keepdims", 0L).output("y"),
                () -> new SingleNodeModel("ReduceMax", 20).input("x", rand(3, 5)).initializer("axes", longs(-1)).output("y"),
                () -> new SingleNodeModel("Split", 18).input("x", rand(7, 2)).attr("num_outputs", 3L)
                        .output("a").output("b").output("c"),
                () -> new SingleNodeModel("Resize", 19).input("x", rand(1, 2, 3, 4)).skipInput()
                        .initializer("scales", Nd4j.createFromArray(1f, 1f, 1.5f, 1.5f)).attr("mode", "linear")
                        .attr("coordinate_transformation_mode", "half_pixel_symmetric").output("y"),
                () -> new SingleNodeModel("Gelu", 20).input("x", rand(3, 4)).attr("approximate", "tanh").output("y"),
                () -> new SingleNodeModel("AveragePool", 19).input("x", rand(1, 2, 7, 7)).ints("kernel_shape", 2, 2)
                        .ints("dilations", 2, 2).output("y"),
                () -> new SingleNodeModel("MaxPool", 12).input("x", rand(1, 2, 7, 7)).ints("kernel_shape", 3, 3)
                        .ints("strides", 2, 2).attr("ceil_mode", 1L).output("y"),
                () -> new SingleNodeModel("Reshape", 21).input("x", rand(3, 4, 2)).initializer("shape", longs(0, -1))
                        .output("y"),
                () -> new SingleNodeModel("Squeeze", 21).input("x", rand(3, 1, 4)).initializer("axes", longs(1)).output("y"),
                () -> new SingleNodeModel("Unsqueeze", 21).input("x", rand(3, 4)).initializer("axes", longs(0, -1)).output("y"),
                () -> new SingleNodeModel("Transpose", 21).input("x", rand(2, 3, 4)).ints("perm", 2, 0, 1).output("y"),
                () -> new SingleNodeModel("Flatten", 21).input("x", rand(2, 3, 4, 5)).attr("axis", 2L).output("y"),
                () -> new SingleNodeModel("Shape", 21).input("x", rand(2, 3, 4, 5)).attr("start", 1L).attr("end", -1L)
                        .output("y", DataType.LONG),
                () -> new SingleNodeModel("Cast", 21).input("x", rand(3, 4)).attr("to", 6L).output("y", DataType.INT),
                () -> new SingleNodeModel("Clip", 13).input("x", rand(3, 4)).initializer("lo", Nd4j.scalar(-0.5f))
                        .initializer("hi", Nd4j.scalar(0.75f)).output("y"),
                () -> new SingleNodeModel("Softmax", 13).input("x", rand(2, 3, 4)).attr("axis", 1L).output("y"),
                () -> new SingleNodeModel("LayerNormalization", 17).input("x", rand(2, 3, 4)).initializer("scale", rand(3, 4))
                        .initializer("bias", rand(3, 4)).attr("axis", -2L).output("y"),
                () -> new SingleNodeModel("DepthToSpace", 13).input("x", rand(1, 8, 2, 3)).attr("blocksize", 2L)
                        .attr("mode", "CRD").output("y"));
        return models.stream().map(s -> Arguments.of(s.get().toString(), s));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesOnnxRuntime(String name, Supplier<SingleNodeModel> model) {
        SingleNodeModel m = model.get();
        Path file = m.write(tmp);
        GraftModel graft = new OnnxImporter().importModel(file);
        Map<String, INDArray> feeds = m.feeds();
        Map<String, INDArray> ours = graft.run(feeds, graft.outputNames());
        try (OrtRunner ort = new OrtRunner(file)) {
            Map<String, INDArray> reference = ort.run(feeds, graft.outputNames());
            for (String out : graft.outputNames()) {
                Agreement a = Agreement.of(ours.get(out), reference.get(out), 1e-5, 1e-4);
                assertTrue(a.within(), name + " output " + out + ": " + a.problem());
                assertTrue(ours.get(out).dataType() == reference.get(out).dataType(),
                        name + " output " + out + ": " + ours.get(out).dataType() + " vs " + reference.get(out).dataType());
            }
            // Round trips: written back at the node's own opset, spelled out there, and spelled out at the
            // default opset 17 (for an opset 18+ node this is the way down to older runtimes).
            int own = Math.max(17, OnnxModelReader.defaultOpset(OnnxModelReader.of(file).read()));
            for (var options : List.of(OnnxExporter.Options.defaults().withOpset(own),
                    OnnxExporter.Options.defaults().withOpset(own).withSourceNodes(false),
                    OnnxExporter.Options.defaults().withSourceNodes(false))) {
                byte[] exported = new OnnxExporter().export(graft, options.withProbeInputs(feeds)).model().toByteArray();
                try (OrtRunner back = new OrtRunner(exported, name + " exported")) {
                    Map<String, INDArray> trip = back.run(feeds, graft.outputNames());
                    for (String out : graft.outputNames()) {
                        Agreement a = Agreement.of(trip.get(out), reference.get(out), 1e-5, 1e-4);
                        assertTrue(a.within(), name + " round trip at opset " + options.opset() + (options.useSourceNodes()
                                ? "" : ", spelled out") + ", output " + out + ": " + a.problem());
                    }
                }
            }
        }
    }
}
