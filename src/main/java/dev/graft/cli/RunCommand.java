package dev.graft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.io.AtomicFiles;
import dev.graft.io.Npy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the imported graph on .npy inputs and write each requested tensor as output_<i>.npy.")
final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model file.")
    Path model;

    @Option(names = "--input", paramLabel = "NAME=FILE.npy", description = "An input array (repeatable).")
    List<String> inputs = new ArrayList<>();

    @Option(names = "--output", paramLabel = "NAME", description = "A tensor to compute, intermediate ones too (repeatable); default: the model's outputs.")
    List<String> outputs = new ArrayList<>();

    @Option(names = "--signature", paramLabel = "KEY", description = "SavedModel signature (default: serving_default).")
    String signature;

    @Option(names = "--output-dir", paramLabel = "DIR", description = "Where output_<i>.npy and outputs.json go (default: ${DEFAULT-VALUE}).", defaultValue = "graft-run")
    Path outputDir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // A TensorFlow model is imported with the requested outputs (signature keys or tensor names);
        // an ONNX model is imported whole and any of its tensors can be computed.
        boolean tf = Graft.isTensorflow(model);
        GraftModel m = Graft.load(model, new dev.graft.LoadOptions(signature, tf ? outputs : List.of(), List.of()));
        Map<String, INDArray> feeds = Inputs.completeRandom(m.inputs(), Inputs.parse(inputs), 1, 0);
        for (String name : m.inputNames()) {
            if (!Inputs.parse(inputs).containsKey(name)) {
                throw new dev.graft.GraftException("Missing input '" + name + "': give it with --input " + name + "=FILE.npy");
            }
        }
        Map<String, INDArray> result = m.run(feeds, tf ? m.outputNames() : outputs);
        List<Map<String, Object>> index = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, INDArray> e : result.entrySet()) {
            Npy.write(e.getValue(), outputDir.resolve("output_" + i + ".npy"));
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("index", i);
            entry.put("name", e.getKey());
            entry.put("shape", e.getValue().shape());
            entry.put("dtype", e.getValue().dataType().toString().toLowerCase());
            entry.put("file", "output_" + i + ".npy");
            index.add(entry);
            spec.commandLine().getOut().printf("output_%d.npy  %s  %s %s%n", i, e.getKey(), e.getValue().dataType(),
                    java.util.Arrays.toString(e.getValue().shape()));
            i++;
        }
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(Map.of("outputs", index));
        AtomicFiles.write(outputDir.resolve("outputs.json"), json.getBytes(StandardCharsets.UTF_8));
        spec.commandLine().getOut().println("wrote " + result.size() + " output(s) to " + outputDir);
        return GraftCli.OK;
    }
}
