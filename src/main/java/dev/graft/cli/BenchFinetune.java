package dev.graft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.data.Dataset;
import dev.graft.surgery.HeadSpec;
import dev.graft.train.FitResult;
import dev.graft.train.Freeze;
import dev.graft.train.TrainSettings;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = {"Time per fine-tuning step: a new softmax head on a frozen trunk (without and with the feature "
                + "cache) and full fine-tuning (BatchNormalization's scale and shift frozen, then trained), next to PyTorch "
                + "doing the same work in the same run",
                "(tests-resources/scripts/bench_torch_finetune.py with Debian's python3-torch)."})
final class BenchFinetune implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL.onnx", description = "Default: the MobileNetV2 fixture.")
    Path model = Path.of("tests-resources/models/mobilenet_v2/model.onnx");

    @Option(names = "--batch", defaultValue = "32", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", defaultValue = "200", description = "Training steps per mode, warm-up included (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--no-torch", description = "Only graft's numbers.")
    boolean noTorch;

    @Option(names = "--profile", description = "Instead: time full fine-tuning op type by op type (where the time goes), next to PyTorch's profiler on the same work.")
    boolean profile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        GraftModel probe = Graft.load(model);
        long[] shape = probe.inputs().get(0).shape();
        int rows = batch * 8;
        shape[0] = rows;
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.FLOAT, shape);
        long[] y = new long[rows];
        for (int i = 0; i < rows; i++) y[i] = i % 10;
        Dataset data = Dataset.of(Map.of(probe.inputNames().get(0), x), Map.of("bench", Nd4j.createFromArray(y)));
        int epochs = Math.max(1, steps / 8);
        TrainSettings settings = TrainSettings.defaults().withEpochs(epochs).withBatchSize(batch)
                .withProgress(new PrintStream(java.io.OutputStream.nullOutputStream()), true);
        if (profile) {
            return profile(out, data, settings);
        }
        out.println(BenchCommand.machine() + String.format("; %s; batch %d; %d steps per mode", model.getFileName(), batch, epochs * 8));
        FitResult head = fresh(Freeze.all()).fit(data, settings.withFeatureCache("off"));
        FitResult cached = fresh(Freeze.all()).fit(data, settings.withFeatureCache("on"));
        FitResult full = fresh(Freeze.none()).fit(data, settings.withFeatureCache("off").withTrunkLearningRate(1e-4));
        FitResult fullBn = fresh(Freeze.none().withBatchNorm(Freeze.BatchNorm.TRAIN))
                .fit(data, settings.withFeatureCache("off").withTrunkLearningRate(1e-4));
        JsonNode torch = noTorch ? null : runTorch(epochs * 8);
        out.printf("%-34s | %13s %13s | %13s %13s | %7s%n", "mode", "graft mean", "graft warm", "torch mean", "torch warm", "ratio");
        row(out, "head only, frozen trunk, no cache", head, torch, "head");
        row(out, "head only, cached trunk outputs", cached, torch, "cached");
        row(out, "full fine-tuning (bn frozen)", full, torch, "full");
        row(out, "full fine-tuning (bn train)", fullBn, torch, "full_bn_train");
        out.printf("cache build: graft %.2f s%s for %d rows%n", cached.cacheSeconds(),
                torch == null ? "" : String.format(", PyTorch %.2f s", torch.path("cached").path("cache_seconds").asDouble()), rows);
        out.println("mean: over all steps, warm-up included; warm: median of the last half; ratio: graft mean / PyTorch mean");
        if (torch == null && !noTorch) out.println("PyTorch: not run (needs /usr/bin/python3 with Debian's python3-torch)");
        out.flush();
        return GraftCli.OK;
    }

    /** Time per op type over a full fine-tuning run (forward and backward ops of every step). */
    private int profile(PrintWriter out, Dataset data, TrainSettings settings) {
        GraftModel m = fresh(Freeze.none());
        Map<String, long[]> byType = new java.util.TreeMap<>();
        FitResult r = m.fit(data, settings.withFeatureCache("off").withTrunkLearningRate(1e-4).withOpTimings(byType));
        long total = byType.values().stream().mapToLong(c -> c[0]).sum();
        out.printf("full fine-tuning, %d steps, %.1f ms a step (profiled: two clock reads per op); time in ops by type:%n",
                r.steps(), r.meanStepMillis());
        out.printf("%-28s %10s %8s %9s%n", "op type", "ms/step", "ops/step", "share");
        byType.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).limit(20).forEach(e ->
                out.printf("%-28s %10.2f %8d %8.1f%%%n", e.getKey(), e.getValue()[0] / 1e6 / r.steps(), e.getValue()[1] / r.steps(),
                        100.0 * e.getValue()[0] / total));
        out.printf("ops total: %.1f ms a step; the rest of the step is the weight updates, the batch and the executor itself%n", total / 1e6 / r.steps());
        JsonNode torch = noTorch ? null : runTorch(r.steps(), "--profile");
        if (torch != null) {
            JsonNode p = torch.path("profile");
            out.printf("%nPyTorch %s, the same full fine-tuning under torch.autograd.profiler, %d steps, %.1f ms a step "
                            + "(profiled); self CPU time of its ops:%n", torch.path("torch").asText(), r.steps(),
                    p.path("step_ms").asDouble());
            out.printf("%-40s %10s %8s%n", "op", "ms/step", "ops/step");
            for (JsonNode op : p.path("ops")) {
                out.printf("%-40s %10.2f %8.0f%n", op.path("op").asText(), op.path("ms_per_step").asDouble(),
                        op.path("calls_per_step").asDouble());
            }
            out.printf("ops total: %.1f ms a step%n", p.path("ops_ms").asDouble());
        } else if (!noTorch) {
            out.println("PyTorch: not run (needs /usr/bin/python3 with Debian's python3-torch)");
        }
        out.flush();
        return GraftCli.OK;
    }

    private GraftModel fresh(Freeze freeze) {
        return Graft.load(model).cut("auto").attachHead(HeadSpec.softmax("bench", 10)).freeze(freeze);
    }

    private static void row(PrintWriter out, String name, FitResult g, JsonNode torch, String key) {
        double tm = torch == null ? Double.NaN : torch.path(key).path("mean_ms").asDouble(Double.NaN);
        double tw = torch == null ? Double.NaN : torch.path(key).path("warm_median_ms").asDouble(Double.NaN);
        out.printf("%-34s | %10.2f ms %10.2f ms | %10.2f ms %10.2f ms | %6.2fx%n", name, g.meanStepMillis(), g.warmStepMillis(),
                tm, tw, g.meanStepMillis() / tm);
    }

    /** The PyTorch peer's JSON line, or null when Python or PyTorch is not there or it failed. */
    private JsonNode runTorch(int totalSteps, String... extra) {
        Path script = Path.of("tests-resources/scripts/bench_torch_finetune.py");
        if (!Files.exists(Path.of("/usr/bin/python3")) || !Files.exists(script)) return null;
        try {
            List<String> command = new java.util.ArrayList<>(List.of("/usr/bin/python3", script.toString(),
                    "--batch", Integer.toString(batch), "--steps", Integer.toString(totalSteps)));
            command.addAll(List.of(extra));
            Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) return null;
            List<String> lines = text.lines().filter(l -> l.startsWith("{")).toList();
            return lines.isEmpty() ? null : new ObjectMapper().readTree(lines.get(lines.size() - 1));
        } catch (Exception e) {
            return null;
        }
    }
}
