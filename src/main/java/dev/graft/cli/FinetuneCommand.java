package dev.graft.cli;

import dev.graft.job.FinetuneJob;
import dev.graft.job.JobFile;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = {"Run a fine-tuning job file: cut, graft heads, freeze, train, export to ONNX and verify it.",
                "Writes RUN/metrics.json, RUN/curves.png, RUN/checkpoints/ (one per epoch, and the best) and the ONNX model."})
final class FinetuneCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "JOB.yaml", description = "The job file (format: see the README).")
    Path job;

    @Option(names = "--output-dir", paramLabel = "RUN", description = "The run folder (default: runs/<job name> beside the job file).")
    Path runDir;

    @Option(names = "--resume", description = "Continue from the newest checkpoint in RUN/checkpoints.")
    boolean resume;

    @Option(names = "--quiet", description = "One line per epoch instead of progress bars.")
    boolean quiet;

    @Option(names = "--signature", paramLabel = "KEY", description = "SavedModel signature of the source (overrides the job's signature:).")
    String signature;

    @Option(names = "--output", paramLabel = "NAME", description = "An output of the source (repeatable; overrides the job's outputs:); "
            + "for a frozen GraphDef the default is the graph's sinks.")
    java.util.List<String> outputs = new java.util.ArrayList<>();

    @Override
    public Integer call() {
        JobFile j = JobFile.read(job).withSourceOptions(signature, outputs);
        Path run = runDir != null ? runDir : job.toAbsolutePath().getParent().resolve("runs")
                .resolve(job.getFileName().toString().replaceFirst("\\.ya?ml$", ""));
        PrintStream out = System.out;
        FinetuneJob.Summary s = FinetuneJob.run(j, run, resume, out, quiet);
        out.flush();
        return s.exportVerified() ? GraftCli.OK : GraftCli.CHECK_FAILED;
    }
}
