package dev.graft.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The CLI contract of issue #2: command names, flags, output files and exit codes. */
class CliTest {

    static final Path RESNET = Path.of("tests-resources/models/resnet_small");

    @TempDir
    Path dir;

    @Test
    void helpListsEveryCommandWithADescription() {
        CliRun o = CliRun.of("--help");
        assertEquals(0, o.code());
        for (String cmd : new String[]{"inspect", "run", "verify", "convert", "conformance", "bench"}) {
            assertTrue(o.out().matches("(?s).*\\n\\s+" + cmd + "\\s+\\S.*"), cmd + " missing in:\n" + o.out());
        }
    }

    @Test
    void inspectJsonDescribesTheModel() throws Exception {
        CliRun o = CliRun.of("inspect", RESNET.resolve("model.onnx").toString(), "--json");
        assertEquals(0, o.code(), o.err());
        JsonNode j = new ObjectMapper().readTree(o.out());
        assertEquals("onnx", j.get("format").asText());
        assertEquals(13, j.get("opset").asInt());
        assertTrue(j.get("imports").asBoolean());
        assertTrue(j.get("inputs").get(0).asText().contains("[batch, 3, 32, 32]"), j.get("inputs").toString());
        // The fixture script records node and weight counts as the ONNX file holds them.
        JsonNode manifest = new ObjectMapper().readTree(Path.of("tests-resources/models/manifest.json").toFile()).get("resnet_small");
        assertEquals(manifest.get("nodes").asInt(), j.get("nodeCount").asInt());
        assertEquals(manifest.get("float_initializer_elements").asLong(), j.get("parameterCount").asLong());
        assertTrue(j.get("opHistogram").get("Conv").asInt() >= 9);
        assertEquals("ConvOps (Conv-1)", j.get("converters").get("Conv").asText());
        assertEquals("NormalizationOps (BatchNormalization-9)", j.get("converters").get("BatchNormalization").asText());
        assertEquals("/Flatten_output_0", j.get("suggestedCuts").get(0).asText());
    }

    /** SqueezeNet classifies with a 1x1 convolution before global pooling: its input is the cut point. */
    @Test
    void inspectFindsAConvolutionalClassifier() throws Exception {
        CliRun o = CliRun.of("inspect", "tests-resources/models/squeezenet/model.onnx", "--json");
        assertEquals(0, o.code(), o.err());
        JsonNode j = new ObjectMapper().readTree(o.out());
        // torchvision's squeezenet1_1: features.12 is the last Fire module, classifier.1 the 1x1 Conv
        assertEquals("/features/features.12/Concat_output_0", j.get("suggestedCuts").get(0).asText());
    }

    @Test
    void runWritesOutputsAndIndex() throws Exception {
        Path out = dir.resolve("run");
        CliRun o = CliRun.of("run", RESNET.resolve("model.onnx").toString(),
                "--input", "input=" + RESNET.resolve("input_b3.npy"),
                "--output", "output", "--output", "/Flatten_output_0", "--output-dir", out.toString());
        assertEquals(0, o.code(), o.err());
        INDArray logits = Npy.read(out.resolve("output_0.npy"));
        INDArray features = Npy.read(out.resolve("output_1.npy"));
        assertArrayEquals(new long[]{3, 10}, logits.shape());
        assertArrayEquals(new long[]{3, 64}, features.shape());
        INDArray expected = Npy.read(RESNET.resolve("output_b3.npy"));
        assertTrue(logits.equalsWithEps(expected, 1e-4));
        JsonNode index = new ObjectMapper().readTree(out.resolve("outputs.json").toFile()).get("outputs");
        assertEquals("output", index.get(0).get("name").asText());
        assertEquals("/Flatten_output_0", index.get(1).get("name").asText());
        assertEquals("float", index.get(1).get("dtype").asText());
        assertEquals(64, index.get(1).get("shape").get(1).asInt());
    }

    @Test
    void runRejectsUnknownNamesWithTheValidOnes() {
        CliRun o = CliRun.of("run", RESNET.resolve("model.onnx").toString(), "--input", "images=" + RESNET.resolve("input_b1.npy"),
                "--output-dir", dir.resolve("x").toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("'images'") && o.err().contains("[input]"), o.err());
        assertTrue(Files.notExists(dir.resolve("x")));
    }

    /** A fed array of the wrong shape or type is refused by name before native code sees it. */
    @Test
    void inputsThatDoNotFitTheModelAreRefused() throws Exception {
        CliRun shape = CliRun.of("run", RESNET.resolve("model.onnx").toString(), "--input",
                "input=" + RESNET.resolve("output_b1.npy"), "--output-dir", dir.resolve("s").toString());
        assertEquals(2, shape.code(), shape.err());
        assertTrue(shape.err().contains("Input 'input' has shape [1, 10], the model expects [batch, 3, 32, 32]"), shape.err());
        Path doubles = dir.resolve("x64.npy");
        Npy.write(Npy.read(RESNET.resolve("input_b1.npy")).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE), doubles);
        CliRun type = CliRun.of("verify", RESNET.resolve("model.onnx").toString(), "--input", "input=" + doubles);
        assertEquals(2, type.code(), type.err());
        assertTrue(type.err().contains("Input 'input' is DOUBLE, the model expects FLOAT"), type.err());
        assertTrue(Files.notExists(dir.resolve("s")));
    }

    @Test
    void verifyAgreesWithOnnxRuntimeAndFailsBeyondTolerance() {
        CliRun ok = CliRun.of("verify", RESNET.resolve("model.onnx").toString(), "--batch", "4");
        assertEquals(0, ok.code(), ok.out() + ok.err());
        assertTrue(ok.out().contains("output") && ok.out().contains("ok"), ok.out());
        // A zero tolerance cannot hold for a ResNet: oneDNN and ONNX Runtime sum convolutions in different orders.
        CliRun strict = CliRun.of("verify", RESNET.resolve("model.onnx").toString(), "--atol", "0", "--rtol", "0");
        assertEquals(1, strict.code(), strict.out() + strict.err());
        assertTrue(strict.out().contains("DIFFERS"), strict.out());
    }

    @Test
    void conformanceWritesReportAndDumpAndSummaryLine() throws Exception {
        Path report = dir.resolve("report.json");
        Path dump = dir.resolve("dump");
        CliRun o = CliRun.of("conformance", "/usr/share/libonnx-testdata/data/node", "--filter", "^test_(relu|softmax_axis_1|convinteger_with_padding)$",
                "--report", report.toString(), "--dump", dump.toString());
        assertEquals(0, o.code(), o.err());
        String[] lines = o.out().trim().split("\n");
        assertEquals("2 passed, 0 failed, 1 skipped", lines[lines.length - 1]);
        JsonNode r = new ObjectMapper().readTree(report.toFile());
        assertEquals(3, r.get("cases").size());
        assertTrue(r.toString().contains("op outside scope: [ConvInteger]"), r.toString());
        INDArray relu = Npy.read(dump.resolve("test_relu").resolve("output_0.npy"));
        assertArrayEquals(new long[]{3, 4, 5}, relu.shape());
        assertTrue(relu.minNumber().doubleValue() >= 0);
    }

    // ---------------------------------------------------------------- issue #3: convert, verify --against

    @Test
    void convertWritesAModelThatVerifiesAgainstItsSource() throws Exception {
        Path out = dir.resolve("out.onnx");
        String source = RESNET.resolve("model.onnx").toString();
        CliRun c = CliRun.of("convert", source, out.toString(), "--opset", "17");
        assertEquals(0, c.code(), c.err());
        assertTrue(Files.size(out) > 100_000, "file written");
        assertTrue(c.out().contains("opset 17") && c.out().contains("31 nodes"), c.out());
        CliRun v = CliRun.of("verify", out.toString(), "--against", source, "--per-tensor", "--batch", "3");
        assertEquals(0, v.code(), v.out() + v.err());
        assertTrue(v.out().contains("comparing onnxruntime(out.onnx) with onnxruntime(model.onnx)"), v.out());
        assertTrue(v.out().matches("(?s).*per tensor: (\\d+) shared tensors compared, \\1 agree, 0 diverge.*"), v.out());
    }

    /** A wrong weight in an export: --per-tensor names the first tensor that diverges, the node that made it. */
    @Test
    void perTensorNamesTheFirstDivergingTensor() throws Exception {
        Path out = dir.resolve("out.onnx");
        String source = RESNET.resolve("model.onnx").toString();
        assertEquals(0, CliRun.of("convert", source, out.toString()).code());
        var model = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(out));
        var g = model.getGraph().toBuilder();
        // Spoil the weight of the first Conv of the second block: everything before it must still agree.
        var conv = g.getNodeList().stream().filter(n -> n.getOpType().equals("Conv")).toList().get(3);
        String weight = conv.getInput(1);
        for (int i = 0; i < g.getInitializerCount(); i++) {
            if (g.getInitializer(i).getName().equals(weight)) {
                var arr = dev.graft.onnx.OnnxTensors.toArray(g.getInitializer(i), null, weight).addi(0.5);
                g.setInitializer(i, dev.graft.onnx.OnnxTensors.toProto(weight, arr));
            }
        }
        Files.write(out, model.toBuilder().setGraph(g).build().toByteArray());
        CliRun v = CliRun.of("verify", out.toString(), "--against", source, "--per-tensor");
        assertEquals(1, v.code(), v.out() + v.err());
        assertTrue(v.out().contains("first divergence: " + conv.getOutput(0) + " (from node '" + conv.getName() + "' (Conv))"),
                v.out());
    }

    @Test
    void convertCanCutAtAnInnerTensor() throws Exception {
        Path out = dir.resolve("trunk.onnx");
        CliRun c = CliRun.of("convert", RESNET.resolve("model.onnx").toString(), out.toString(), "--output", "/Flatten_output_0");
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("outputs: [/Flatten_output_0]"), c.out());
    }

    @Test
    void convertRefusesBadRequestsAndWritesNothing() {
        Path out = dir.resolve("x.onnx");
        CliRun opset = CliRun.of("convert", RESNET.resolve("model.onnx").toString(), out.toString(), "--opset", "22");
        assertEquals(2, opset.code());
        assertTrue(opset.err().contains("opset 22") && opset.err().contains("13 to 21"), opset.err());
        CliRun name = CliRun.of("convert", RESNET.resolve("model.onnx").toString(), out.toString(), "--output", "nope");
        assertEquals(2, name.code());
        assertTrue(name.err().contains("Unknown output 'nope'"), name.err());
        CliRun missing = CliRun.of("convert", dir.resolve("absent.onnx").toString(), out.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("absent.onnx"), missing.err());
        assertTrue(Files.notExists(out));
    }

    @Test
    void inspectSaysWhetherTheModelExportsBack() throws Exception {
        CliRun t = CliRun.of("inspect", RESNET.resolve("model.onnx").toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("export:     yes, at opset 17: 31 of 31 nodes written back as they are"), t.out());
        JsonNode j = new ObjectMapper().readTree(CliRun.of("inspect", RESNET.resolve("model.onnx").toString(), "--json").out());
        assertEquals(0, j.get("exportBlockers").size());
        assertEquals(31, j.get("nodesWrittenBack").asInt());
    }

    @Test
    void conformanceReportsRoundTrips() {
        CliRun o = CliRun.of("conformance", "/usr/share/libonnx-testdata/data/node", "--filter", "^test_(relu|softmax_axis_1)$",
                "--roundtrip");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("round trip (import, export, ONNX Runtime), in scope: 2 of 2 passed"), o.out());
    }

    @Test
    void benchFinetunePrintsTheThreeModes() {
        CliRun o = CliRun.of("bench", "finetune", RESNET.resolve("model.onnx").toString(), "--steps", "8", "--batch", "4", "--no-torch");
        assertEquals(0, o.code(), o.err());
        for (String mode : new String[]{"head only, frozen trunk, no cache", "head only, cached trunk outputs", "full fine-tuning"}) {
            assertTrue(o.out().contains(mode), o.out());
        }
        assertTrue(!o.out().contains("Added differentiated op"), "ND4J's stdout noise is kept out");
    }
}
