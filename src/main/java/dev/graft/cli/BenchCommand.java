package dev.graft.cli;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.onnx.runtime.OrtRunner;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that print numbers next to a peer run in the same process.",
        subcommands = {BenchCommand.ImportBench.class, BenchCommand.RunBench.class, BenchCommand.ExportBench.class,
                BenchFinetune.class, BenchMemory.class})
final class BenchCommand {

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Import time of graft (ONNX -> SameDiff) next to ONNX Runtime's session creation, same files, same JVM.")
    static final class ImportBench implements Callable<Integer> {

        @Parameters(arity = "1..*", paramLabel = "MODEL", description = "ONNX files.")
        List<Path> models;

        @Option(names = "--repeat", description = "Timed runs per model after one warm-up (default: ${DEFAULT-VALUE}).", defaultValue = "10")
        int repeat;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            out.println(machine() + String.format("; median and min of %d runs after 1 warm-up", repeat));
            out.printf("%-44s %6s %8s | %14s %14s | %14s %14s | %6s%n", "model", "nodes", "MB",
                    "graft median", "graft min", "ORT median", "ORT min", "ratio");
            for (Path m : models) {
                GraftModel warm = Graft.load(m);
                try (OrtRunner w = new OrtRunner(m)) {
                    w.inputNames();
                }
                double[] graft = new double[repeat];
                double[] ort = new double[repeat];
                for (int i = 0; i < repeat; i++) {
                    long t0 = System.nanoTime();
                    Graft.load(m);
                    graft[i] = (System.nanoTime() - t0) / 1e6;
                    long t1 = System.nanoTime();
                    try (OrtRunner r = new OrtRunner(m)) {
                        ort[i] = (System.nanoTime() - t1) / 1e6;
                    }
                }
                Arrays.sort(graft);
                Arrays.sort(ort);
                double gMed = graft[repeat / 2];
                double oMed = ort[repeat / 2];
                out.printf("%-44s %6d %8.2f | %11.1f ms %11.1f ms | %11.1f ms %11.1f ms | %5.2fx%n", shorten(m.toString()),
                        warm.source().nodeCount(), Files.size(m) / 1e6, gMed, graft[0], oMed, ort[0], gMed / oMed);
                out.flush();
            }
            out.println("ratio = graft median / ONNX Runtime median (session creation includes ORT's graph optimisations)");
            return GraftCli.OK;
        }

    }

    /** The machine line every benchmark starts with, so that numbers are read with their context. */
    static String machine() {
        return String.format("%s%s, %d cores, %.0f GiB, Java %s, ND4J backend %s", cpuModel(), System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors(), memoryGiB(), System.getProperty("java.version"), nd4jBackend());
    }

    /** "AMD EPYC, " from /proc/cpuinfo, or nothing where it cannot be read. */
    private static String cpuModel() {
        try {
            return java.nio.file.Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim() + ", ").findFirst().orElse("");
        } catch (java.io.IOException | RuntimeException e) {
            return "";
        }
    }

    private static double memoryGiB() {
        try {
            return java.nio.file.Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                    .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(0) / 1024.0 / 1024.0;
        } catch (java.io.IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** The nd4j-native build loaded (plain, -avx2, -onednn-avx2): the folder of the libnd4jcpu.so in this process. */
    private static String nd4jBackend() {
        org.nd4j.linalg.factory.Nd4j.getBackend();
        try {
            return java.nio.file.Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.endsWith("/libnd4jcpu.so"))
                    .map(l -> Path.of(l.substring(l.indexOf('/'))).getParent().getFileName().toString()).findFirst().orElse("?");
        } catch (java.io.IOException | RuntimeException e) {
            return "?";
        }
    }

    static String shorten(String s) {
        return s.length() <= 44 ? s : "..." + s.substring(s.length() - 41);
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Inference latency of the imported SameDiff graph next to ONNX Runtime, same inputs, same JVM.")
    static final class RunBench implements Callable<Integer> {

        @Parameters(arity = "1..*", paramLabel = "MODEL", description = "ONNX files.")
        List<Path> models;

        @Option(names = "--batch", description = "Size of the first dynamic dimension (default: ${DEFAULT-VALUE}).", defaultValue = "32")
        int batch;

        @Option(names = "--repeat", description = "Timed runs per engine after 5 warm-up runs (default: ${DEFAULT-VALUE}).", defaultValue = "20")
        int repeat;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            out.println(machine() + String.format("; batch %d; median and min of %d runs after 5 warm-up", batch, repeat));
            out.printf("%-44s | %14s %14s | %14s %14s | %6s%n", "model", "graft median", "graft min", "ORT median", "ORT min", "ratio");
            for (Path m : models) {
                GraftModel model = Graft.load(m);
                var feeds = Inputs.completeRandom(model.inputs(), java.util.Map.of(), batch, 1);
                double[] graft = new double[repeat];
                double[] ort = new double[repeat];
                try (OrtRunner runner = new OrtRunner(m)) {
                    for (int i = 0; i < 5; i++) {
                        model.run(feeds, List.of());
                        runner.run(feeds, model.outputNames());
                    }
                    for (int i = 0; i < repeat; i++) {
                        long t0 = System.nanoTime();
                        model.run(feeds, List.of());
                        graft[i] = (System.nanoTime() - t0) / 1e6;
                        long t1 = System.nanoTime();
                        runner.run(feeds, model.outputNames());
                        ort[i] = (System.nanoTime() - t1) / 1e6;
                    }
                }
                Arrays.sort(graft);
                Arrays.sort(ort);
                out.printf("%-44s | %11.2f ms %11.2f ms | %11.2f ms %11.2f ms | %5.2fx%n", shorten(m.toString()),
                        graft[repeat / 2], graft[0], ort[repeat / 2], ort[0], graft[repeat / 2] / ort[repeat / 2]);
                out.flush();
            }
            out.println("ratio = graft median (its executor on ND4J; SameDiff's session for graphs with control flow) / ONNX Runtime median; both on the CPU, same inputs");
            return GraftCli.OK;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Export each model with graft, then time ONNX Runtime on the export next to the source, "
                    + "interleaved in one process, same inputs; prints node counts, export time and the latency ratio.")
    static final class ExportBench implements Callable<Integer> {

        @Parameters(arity = "1..*", paramLabel = "MODEL", description = "ONNX files.")
        List<Path> models;

        @Option(names = "--batch", description = "Size of the first dynamic dimension (default: ${DEFAULT-VALUE}).", defaultValue = "32")
        int batch;

        @Option(names = "--repeat", description = "Timed runs per model after 10 warm-up runs (default: ${DEFAULT-VALUE}).", defaultValue = "100")
        int repeat;

        @Option(names = "--spell-out", description = "Export with every SameDiff op spelled out (no source node written back).")
        boolean spellOut;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            out.println(machine() + String.format("; batch %d; ONNX Runtime medians of %d interleaved runs after 10 warm-up%s",
                    batch, repeat, spellOut ? "; every op spelled out" : ""));
            out.printf("%-44s | %6s %6s | %9s | %12s %12s | %6s%n", "model", "nodes", "export", "export ms",
                    "source ms", "export ms", "ratio");
            Path tmp = java.nio.file.Files.createTempDirectory("graft-bench");
            try {
                for (Path m : models) {
                    GraftModel model = Graft.load(m);
                    Path exported = tmp.resolve(m.getFileName().toString().replace(".onnx", "") + "-" + Math.abs(m.hashCode()) + ".onnx");
                    long t0 = System.nanoTime();
                    var result = new dev.graft.onnx.export.OnnxExporter().write(model, exported,
                            dev.graft.onnx.export.OnnxExporter.Options.defaults().withSourceNodes(!spellOut));
                    double exportMs = (System.nanoTime() - t0) / 1e6;
                    var feeds = Inputs.completeRandom(model.inputs(), java.util.Map.of(), batch, 1);
                    double[] source = new double[repeat];
                    double[] export = new double[repeat];
                    try (OrtRunner a = new OrtRunner(m); OrtRunner b = new OrtRunner(exported)) {
                        for (int i = 0; i < 10; i++) {
                            a.run(feeds, model.outputNames());
                            b.run(feeds, model.outputNames());
                        }
                        // Interleaved, and alternating which goes first, so that drift in the machine's speed
                        // (other processes, frequency) hits both alike.
                        for (int i = 0; i < repeat; i++) {
                            boolean sourceFirst = i % 2 == 0;
                            for (int k = 0; k < 2; k++) {
                                boolean runSource = (k == 0) == sourceFirst;
                                long s = System.nanoTime();
                                (runSource ? a : b).run(feeds, model.outputNames());
                                (runSource ? source : export)[i] = (System.nanoTime() - s) / 1e6;
                            }
                        }
                    }
                    Arrays.sort(source);
                    Arrays.sort(export);
                    out.printf("%-44s | %6d %6d | %9.0f | %9.3f ms %9.3f ms | %5.3fx%n", shorten(m.toString()),
                            model.source().nodeCount(), result.model().getGraph().getNodeCount(), exportMs,
                            source[repeat / 2], export[repeat / 2], export[repeat / 2] / source[repeat / 2]);
                    out.flush();
                }
            } finally {
                try (var files = java.nio.file.Files.list(tmp)) {
                    for (Path f : files.toList()) java.nio.file.Files.deleteIfExists(f);
                }
                java.nio.file.Files.deleteIfExists(tmp);
            }
            out.println("nodes = source / export node count; ratio = export median / source median latency in ONNX Runtime");
            return GraftCli.OK;
        }
    }
}
