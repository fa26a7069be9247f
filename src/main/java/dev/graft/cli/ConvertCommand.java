package dev.graft.cli;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.onnx.export.OnnxExporter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Import a model and export it as ONNX (written atomically: on failure no file is written and "
                + "an existing one is left as it was).")
final class ConvertCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN", description = "Any model graft imports (.onnx, a TensorFlow SavedModel "
            + "directory, a frozen GraphDef .pb/.pbtxt).")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.onnx", description = "The ONNX file to write.")
    Path out;

    @Option(names = "--opset", description = "ONNX opset to write, " + OnnxExporter.MIN_OPSET + " to "
            + OnnxExporter.MAX_OPSET + " (default: ${DEFAULT-VALUE}).", defaultValue = "" + OnnxExporter.DEFAULT_OPSET)
    int opset;

    @Option(names = "--output", paramLabel = "NAME", description = "A tensor to export as an output (repeatable; "
            + "default: the model's outputs). Naming an inner tensor exports the trunk up to it.")
    List<String> outputs = new ArrayList<>();

    @Option(names = "--signature", paramLabel = "KEY", description = "SavedModel signature (default: serving_default).")
    String signature;

    @Option(names = "--spell-out", description = "Write every SameDiff op through its exporter, even where the source "
            + "node could be written back as it was.")
    boolean spellOut;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        long start = System.nanoTime();
        // TensorFlow outputs are chosen at import (signature keys or tensor names); ONNX ones at export.
        boolean tf = Graft.isTensorflow(in);
        GraftModel model = Graft.load(in, new dev.graft.LoadOptions(signature, tf ? outputs : List.of(), List.of()));
        long imported = System.nanoTime();
        OnnxExporter.Result r = new OnnxExporter().write(model, out, OnnxExporter.Options.defaults().withOpset(opset)
                .withOutputs(tf ? List.of() : outputs).withSourceNodes(!spellOut));
        long done = System.nanoTime();
        var graph = r.model().getGraph();
        long bytes;
        try {
            bytes = Files.size(out);
        } catch (java.io.IOException e) {
            bytes = -1;
        }
        w.printf("%s: %s, %d nodes%n", in, model.source().format()
                + (model.source().opset() > 0 ? " opset " + model.source().opset() : ""), model.source().nodeCount());
        w.printf("%s: onnx opset %d, %d nodes (%d source nodes written back as they were, %d SameDiff ops spelled out), "
                        + "%d initializers, %.1f MB%n", out, opset, graph.getNodeCount(), r.sourceNodesKept(), r.opsSpelledOut(),
                graph.getInitializerCount(), bytes / 1e6);
        w.printf("outputs: %s%n", graph.getOutputList().stream().map(o -> o.getName()).toList());
        w.printf("import %.0f ms, export %.0f ms%n", (imported - start) / 1e6, (done - imported) / 1e6);
        w.printf("check it: graft verify %s --against %s%n", out, in);
        w.flush();
        return GraftCli.OK;
    }
}
