package dev.graft.cli;

import dev.graft.demo.Demo;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Transfer learning on bundled real data: import the bundled PyTorch CNN (digits 0-4), cut its classifier, "
                + "graft a new head, fine-tune on a few digits 5-9, export to ONNX, verify in ONNX Runtime, report.",
                "Run from the repository root. Writes RUN/job.yaml, RUN/data/, RUN/model.onnx, RUN/metrics.json, RUN/curves.png, "
                        + "RUN/checkpoints/."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--multi-task", description = "One trunk, three heads over digits 0-9: the digit, \"is even\", \"is greater than 4\"; "
            + "a share of the training labels missing (see --missing).")
    boolean multiTask;

    @Option(names = "--output-dir", paramLabel = "RUN", description = "The run folder (default: target/demo, or target/demo-multi-task).")
    Path runDir;

    @Option(names = "--per-class", paramLabel = "N", defaultValue = "30", description = "Training examples per digit (default: ${DEFAULT-VALUE}).")
    int perClass;

    @Option(names = "--epochs", defaultValue = "40", description = "At most this many epochs; early stopping on the validation loss (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--freeze", defaultValue = "last:1", description = "all | none | until:<tensor> | last:<k> (default: ${DEFAULT-VALUE}).")
    String freeze;

    @Option(names = "--missing", defaultValue = "0.3", description = "With --multi-task: share of each head's training labels left out (default: ${DEFAULT-VALUE}).")
    double missing;

    @Option(names = "--model", paramLabel = "MODEL", description = "The pretrained model: .onnx, frozen .pb or a SavedModel folder taking one 28x28 grey image per row (default: ${DEFAULT-VALUE}; models/mnist04_cnn_tf is the TensorFlow one).", defaultValue = "models/mnist04_cnn_torch.onnx")
    Path model;

    @Option(names = "--digits", paramLabel = "DIR", description = "x_uint8.npy [n,28,28] and y.npy (default: ${DEFAULT-VALUE}).", defaultValue = "tests-resources/mnist")
    Path digits;

    @Option(names = "--quiet", description = "One line per epoch instead of progress bars.")
    boolean quiet;

    @Override
    public Integer call() {
        Path run = runDir != null ? runDir : Path.of(multiTask ? "target/demo-multi-task" : "target/demo");
        PrintStream out = System.out;
        Demo.Report r = Demo.run(Demo.Options.defaults(run).withMultiTask(multiTask).withPerClass(perClass).withEpochs(epochs)
                .withFreeze(freeze).withMissing(missing).withSources(model, digits).withQuiet(quiet), out);
        out.flush();
        return r.exportVerified() ? GraftCli.OK : GraftCli.CHECK_FAILED;
    }
}
