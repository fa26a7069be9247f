package dev.graft.cli;

import dev.graft.Graft;
import dev.graft.onnx.runtime.OrtRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Peak resident memory (Linux VmHWM) of a fresh process doing one job, next to a peer doing the same job in
 * its own fresh process: graft's import next to an ONNX Runtime session (both in a JVM), and graft's
 * fine-tuning benchmark next to PyTorch's. A fresh process per job, so that nothing one job allocated counts
 * against the next, and the JVM's own footprint counts on both sides of the import row.
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = "Peak resident memory (VmHWM) of fresh processes: graft import vs ONNX Runtime session creation, "
                + "graft fine-tuning vs PyTorch doing the same steps (bench finetune's four modes).")
final class BenchMemory implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL.onnx", description = "Default: the MobileNetV2 fixture.")
    Path model = Path.of("tests-resources/models/mobilenet_v2/model.onnx");

    @Option(names = "--steps", defaultValue = "40", description = "Training steps per mode (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", defaultValue = "32", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--java-heap", defaultValue = "4g", description = "-Xmx of the JVM children (default: ${DEFAULT-VALUE}).")
    String heap;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (!Files.isReadable(Path.of("/proc/self/status"))) {
            out.println("bench memory needs Linux /proc to read peak resident memory");
            return GraftCli.CHECK_FAILED;
        }
        out.println(BenchCommand.machine() + String.format("; %s; JVM children -Xmx%s%s; peak resident memory (VmHWM) per fresh process",
                model, heap, PHYSICAL_CAP == null ? "" : " -D" + PHYSICAL_CAP_PROPERTY + "=" + PHYSICAL_CAP));
        out.printf("%-48s | %12s | %12s%n", "job", "graft", "peer");
        String m = model.toString();
        long graftImport = peak(java("dev.graft.cli.BenchMemory$Probe", "graft-import", m));
        long ortSession = peak(java("dev.graft.cli.BenchMemory$Probe", "ort-session", m));
        out.printf("%-48s | %9.0f MB | %9.0f MB  (ONNX Runtime session in a JVM)%n", "import / session creation", graftImport / 1e6, ortSession / 1e6);
        long idle = peak(java("dev.graft.cli.BenchMemory$Probe", "idle", m));
        out.printf("%-48s | %9.0f MB | %12s%n", "  (a JVM that loads ND4J and does nothing)", idle / 1e6, "");
        out.flush();
        String s = Integer.toString(steps);
        String b = Integer.toString(batch);
        long graftTrain = peak(java("dev.graft.cli.GraftCli", "bench", "finetune", "--no-torch", "--steps", s, "--batch", b, m));
        Path script = Path.of("tests-resources/scripts/bench_torch_finetune.py");
        long torchTrain = Files.exists(Path.of("/usr/bin/python3")) && Files.exists(script)
                ? peak(List.of("/usr/bin/python3", script.toString(), "--steps", s, "--batch", b)) : -1;
        out.printf("%-48s | %9.0f MB | %s%n", String.format("fine-tuning, %d steps x 4 modes, batch %d", steps, batch), graftTrain / 1e6,
                torchTrain < 0 ? "PyTorch not run (needs /usr/bin/python3 with python3-torch)" : String.format("%9.0f MB  (PyTorch)", torchTrain / 1e6));
        out.println("graft's fine-tuning process imports the model, runs head-only, cached and full fine-tuning with BatchNormalization "
                + "frozen and trained (bench finetune --no-torch); PyTorch's builds the same architecture and runs the same four modes");
        out.flush();
        return GraftCli.OK;
    }

    private static final String PHYSICAL_CAP_PROPERTY = "org.bytedeco.javacpp.maxphysicalbytes";
    private static final String PHYSICAL_CAP = System.getProperty(PHYSICAL_CAP_PROPERTY);

    private List<String> java(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx" + heap,
                "-Dorg.bytedeco.javacpp.logger=slf4j"));
        // A cap on JavaCPP's physical memory given to this JVM (GRAFT_JAVA_OPTS) is given to the children too.
        if (PHYSICAL_CAP != null) cmd.add("-D" + PHYSICAL_CAP_PROPERTY + "=" + PHYSICAL_CAP);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs the command to its end and returns its largest VmHWM seen (polled every 10 ms; VmHWM only grows). */
    static long peak(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putIfAbsent("TF_CPP_MIN_LOG_LEVEL", "2");
        Process p = pb.start();
        Path status = Path.of("/proc", Long.toString(p.pid()), "status");
        long peak = 0;
        while (p.isAlive()) {
            peak = Math.max(peak, vmHwm(status));
            Thread.sleep(10);
        }
        if (p.exitValue() != 0) throw new IllegalStateException(String.join(" ", command) + ": exit code " + p.exitValue());
        return peak;
    }

    private static long vmHwm(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            // The process ended between the liveness check and the read: keep the last value.
        }
        return 0;
    }

    /** The child processes' jobs. */
    static final class Probe {
        public static void main(String[] args) throws Exception {
            Path model = Path.of(args[1]);
            switch (args[0]) {
                case "graft-import" -> Graft.load(model);
                case "ort-session" -> {
                    try (OrtRunner r = new OrtRunner(model)) {
                        r.inputNames();
                    }
                }
                case "idle" -> org.nd4j.linalg.factory.Nd4j.create(1);
                default -> throw new IllegalArgumentException(args[0]);
            }
            // A moment for the parent's poll to see the final high-water mark.
            Thread.sleep(100);
        }
    }
}
