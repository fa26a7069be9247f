package dev.graft.cli;

import dev.graft.experiment.ExperimentReport;
import dev.graft.experiment.Experiments;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = {"The seed's claims measured on real digits (EXPERIMENTS.md). transfer: a new head for digits 5-9 on the trunk "
                + "of the bundled CNN pretrained on digits 0-4, frozen, last 1 or 2 layers or all unfrozen, against the same "
                + "architecture trained from scratch, at 10, 50, 200 and the most examples per digit the pool has. multitask: one "
                + "trunk with three heads (digit, even, greater than 4) against three separate networks, 50 and 200 examples per "
                + "digit, 0, 50 and 90 %% of the labels missing.",
                "Needs the training pool: /usr/bin/python3 models/scripts/make_mnist_pool.py (writes target/mnist-pool). Tests on "
                        + "tests-resources/mnist. Writes OUT/results.json, results.csv, summary.md, transfer.png, multitask.png, run.log."})
final class ExperimentCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "WHICH", description = "transfer | multitask | all")
    String which;

    @Option(names = "--quick", description = "Tiny sizes and budgets, one seed unless --seeds is given (the test's run, under a minute).")
    boolean quick;

    @Option(names = "--seeds", paramLabel = "N", description = "Seeds per cell (default: 3; 1 with --quick).")
    Integer seeds;

    @Option(names = "--pool", paramLabel = "DIR", defaultValue = "target/mnist-pool",
            description = "Training examples: x_uint8.npy [n,28,28], y.npy (default: ${DEFAULT-VALUE}).")
    Path pool;

    @Option(names = "--test", paramLabel = "DIR", defaultValue = "tests-resources/mnist",
            description = "Held-out test digits, never trained on; the same folder as --pool splits each digit in half (default: ${DEFAULT-VALUE}).")
    Path test;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "docs/experiments", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--model", paramLabel = "MODEL.onnx", defaultValue = "models/mnist04_cnn_torch.onnx",
            description = "The task-A model (default: ${DEFAULT-VALUE}).")
    Path model;

    @Override
    public Integer call() {
        int n = seeds != null ? seeds : quick ? 1 : 3;
        StringBuilder command = new StringBuilder("graft experiment ").append(which);
        if (quick) command.append(" --quick");
        command.append(" --seeds ").append(n);
        command.append(" --pool ").append(pool).append(" --test ").append(test).append(" --out ").append(out).append(" --model ").append(model);
        ExperimentReport r = Experiments.run(new Experiments.Options(which, model, pool, test, out, n, quick, command.toString()), System.out);
        System.out.flush();
        return r.cells().isEmpty() ? GraftCli.CHECK_FAILED : GraftCli.OK;
    }
}
