package dev.graft.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.graft.GraftException;
import dev.graft.io.AtomicFiles;
import java.awt.Color;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The cells of an experiment run, summarised (mean ± sample standard deviation over seeds) and written as
 * results.json (every cell), results.csv (one row per cell and head), summary.md (the tables of EXPERIMENTS.md)
 * and the plots transfer.png and multitask.png.
 */
public record ExperimentReport(Experiments.Options options, Experiments.Plan plan, List<Experiments.Cell> cells,
                               double seconds, int poolImages, int testImages) {

    /** Mean and sample standard deviation (NaN for a single value) of a cell group. */
    public record Stat(double mean, double std, int count) {
        static Stat of(List<Double> v) {
            double m = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double ss = v.stream().mapToDouble(x -> (x - m) * (x - m)).sum();
            return new Stat(m, v.size() > 1 ? Math.sqrt(ss / (v.size() - 1)) : Double.NaN, v.size());
        }

        String text() {
            if (!Double.isFinite(mean)) return "n/a";
            return Double.isFinite(std) ? String.format(Locale.ROOT, "%.3f ± %.3f", mean, std) : String.format(Locale.ROOT, "%.3f", mean);
        }
    }

    /** Test accuracy of a head over the seeds of the cells whose config has every given entry. */
    public Stat stat(String experiment, String head, Map<String, Object> where) {
        List<Double> v = new ArrayList<>();
        for (Experiments.Cell c : cells) {
            if (!c.experiment().equals(experiment)) continue;
            boolean match = where.entrySet().stream().allMatch(e -> Objects.equals(c.config().get(e.getKey()), e.getValue()));
            if (match && c.testAccuracy().containsKey(head)) v.add(c.testAccuracy().get(head));
        }
        return Stat.of(v);
    }

    void write(PrintStream log) {
        Path out = options.out();
        String md = summaryMarkdown();
        AtomicFiles.write(out.resolve("summary.md"), md.getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(out.resolve("results.csv"), csv().getBytes(StandardCharsets.UTF_8));
        try {
            AtomicFiles.write(out.resolve("results.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsBytes(json()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new GraftException("results.json: " + e.getMessage(), e);
        }
        if (options.transfer()) LinePlot.write(out.resolve("transfer.png"), transferTitle(), transferPanels());
        if (options.multiTask()) LinePlot.write(out.resolve("multitask.png"), multiTaskTitle(), multiTaskPanels());
        log.println();
        log.print(md);
    }

    // ---------------------------------------------------------------- tables

    String summaryMarkdown() {
        StringBuilder sb = new StringBuilder();
        if (options.transfer()) {
            sb.append(String.format(Locale.ROOT, "### Transfer: test accuracy on the held-out digits 5-9 (mean ± std over %d seeds)%n%n", options.seeds()));
            sb.append("| mode | trunk trains |");
            for (int n : plan.transferSizes()) sb.append(" n = ").append(n).append(" |");
            sb.append("\n|---|---|");
            for (int ignored : plan.transferSizes()) sb.append("---|");
            sb.append('\n');
            for (Experiments.Mode m : plan.modes()) {
                sb.append("| ").append(m.label).append(" | `").append(m.freeze).append(m.scratch ? "`, fresh weights |" : "` |");
                for (int n : plan.transferSizes()) {
                    sb.append(' ').append(stat("transfer", "digit", Map.of("n_per_class", n, "mode", m.key())).text()).append(" |");
                }
                sb.append('\n');
            }
            sb.append("\nn = examples per digit (a fifth of them validate, the rest train).\n\n");
        }
        if (options.multiTask()) {
            sb.append(String.format(Locale.ROOT, "### Multi-task: test accuracy on the held-out digits 0-9 (mean ± std over %d seeds)%n%n", options.seeds()));
            sb.append("| n per digit | labels missing | digit: one net | digit: separate | even: one net | even: separate | greater_than_4: one net | greater_than_4: separate |\n");
            sb.append("|---|---|---|---|---|---|---|---|\n");
            for (int n : plan.multiTaskSizes()) {
                for (double miss : plan.missing()) {
                    sb.append("| ").append(n).append(" | ").append(String.format(Locale.ROOT, "%.0f %%", miss * 100)).append(" |");
                    for (String h : Experiments.TASKS) {
                        for (String setup : List.of("multi", "separate")) {
                            sb.append(' ').append(stat("multitask", h, Map.of("n_per_class", n, "missing", miss, "setup", setup)).text()).append(" |");
                        }
                    }
                    sb.append('\n');
                }
            }
            sb.append("\none net = one trunk with three heads; separate = three networks, each with its own copy of the trunk and one head.\n\n");
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- csv and json

    String csv() {
        StringBuilder sb = new StringBuilder("experiment,n_per_class,mode,missing,setup,seed,head,test_accuracy,train_labels,train_rows,"
                + "validation_rows,epochs_run,best_epoch,steps,seconds\n");
        for (Experiments.Cell c : cells) {
            for (Map.Entry<String, Double> e : c.testAccuracy().entrySet()) {
                sb.append(String.join(",", c.experiment(), str(c.config().get("n_per_class")), str(c.config().get("mode")),
                        str(c.config().get("missing")), str(c.config().get("setup")), Long.toString(c.seed()), e.getKey(),
                        String.format(Locale.ROOT, "%.4f", e.getValue()), str(c.trainLabels().get(e.getKey())), Integer.toString(c.trainRows()),
                        Integer.toString(c.validationRows()), Integer.toString(c.epochsRun()), Integer.toString(c.bestEpoch()),
                        Integer.toString(c.steps()), String.format(Locale.ROOT, "%.2f", c.seconds()))).append('\n');
            }
        }
        return sb.toString();
    }

    private static String str(Object o) {
        return o == null ? "" : o.toString();
    }

    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", options.command());
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        machine.put("max_heap_mb", Runtime.getRuntime().maxMemory() / (1024 * 1024));
        machine.put("omp_num_threads", System.getenv("OMP_NUM_THREADS"));
        m.put("machine", machine);
        m.put("wall_seconds", Math.round(seconds * 10) / 10.0);
        m.put("model", shown(options.model()));
        m.put("pool", shown(options.pool()));
        m.put("test", shown(options.test()));
        m.put("pool_images", poolImages);
        m.put("test_images", testImages);
        m.put("seeds", options.seeds());
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("transfer_sizes", plan.transferSizes());
        p.put("modes", plan.modes().stream().map(Experiments.Mode::key).toList());
        p.put("multitask_sizes", plan.multiTaskSizes());
        p.put("missing", plan.missing());
        p.put("max_steps", plan.maxSteps());
        p.put("multitask_max_steps", plan.multiTaskMaxSteps());
        p.put("max_epochs", plan.maxEpochs());
        p.put("patience", plan.patience());
        p.put("training", "adam, batch 32, learning rate 0.01 (heads) and 0.001 (trunk), early stopping on val_loss, best epoch kept; "
                + "BatchNormalization statistics frozen (bn: frozen)");
        p.put("validation", "a fifth of the n examples per class (at least 1)");
        m.put("plan", p);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Experiments.Cell c : cells) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("experiment", c.experiment());
            r.put("config", c.config());
            r.put("seed", c.seed());
            r.put("test_accuracy", c.testAccuracy());
            r.put("train_labels", c.trainLabels());
            r.put("train_rows", c.trainRows());
            r.put("validation_rows", c.validationRows());
            r.put("epochs_run", c.epochsRun());
            r.put("best_epoch", c.bestEpoch());
            r.put("steps", c.steps());
            r.put("stopped_early", c.stoppedEarly());
            r.put("seconds", Math.round(c.seconds() * 100) / 100.0);
            rows.add(r);
        }
        m.put("cells", rows);
        return m;
    }

    /** A path as plain text, relative to the working folder when it lies below it (the repository root). */
    static String shown(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path here = Path.of("").toAbsolutePath().normalize();
        return (abs.startsWith(here) ? here.relativize(abs) : abs).toString().replace('\\', '/');
    }

    // ---------------------------------------------------------------- plots

    private String transferTitle() {
        return String.format(Locale.ROOT, "Task B (digits 5-9): test accuracy vs examples per digit, mean ± std over %d seed%s",
                options.seeds(), options.seeds() == 1 ? "" : "s");
    }

    List<LinePlot.Panel> transferPanels() {
        List<LinePlot.Series> series = new ArrayList<>();
        int i = 0;
        for (Experiments.Mode m : plan.modes()) {
            List<LinePlot.Point> pts = new ArrayList<>();
            for (int n : plan.transferSizes()) {
                Stat s = stat("transfer", "digit", Map.of("n_per_class", n, "mode", m.key()));
                pts.add(new LinePlot.Point(n, s.mean(), s.std()));
            }
            series.add(new LinePlot.Series(m.label, LinePlot.COLORS[i++ % LinePlot.COLORS.length], m.scratch, pts));
        }
        List<Double> ticks = plan.transferSizes().stream().map(Integer::doubleValue).toList();
        LinePlot.Panel all = new LinePlot.Panel("all sizes", "examples per digit (log scale)", "test accuracy", ticks, true, series);
        // The second panel zooms in on the modes near the top at the largest size.
        List<LinePlot.Series> top = series.stream().filter(s -> {
            LinePlot.Point last = s.points().get(s.points().size() - 1);
            double best = series.stream().mapToDouble(x -> x.points().get(x.points().size() - 1).mean()).max().orElse(1);
            return last.mean() >= best - 0.1;
        }).toList();
        List<LinePlot.Series> zoomed = new ArrayList<>();
        for (LinePlot.Series s : top) {
            zoomed.add(new LinePlot.Series(s.name(), s.color(), s.dashed(), s.points().subList(Math.min(1, s.points().size() - 1), s.points().size())));
        }
        List<Double> zoomTicks = ticks.subList(Math.min(1, ticks.size() - 1), ticks.size());
        LinePlot.Panel zoom = new LinePlot.Panel("zoom: larger sizes, modes within 0.1 of the best", "examples per digit (log scale)",
                "test accuracy", zoomTicks, true, zoomed);
        return zoomTicks.size() > 1 ? List.of(all, zoom) : List.of(all);
    }

    private String multiTaskTitle() {
        return String.format(Locale.ROOT, "One trunk with three heads vs three separate networks, by share of labels missing (mean ± std over %d seed%s)",
                options.seeds(), options.seeds() == 1 ? "" : "s");
    }

    List<LinePlot.Panel> multiTaskPanels() {
        List<LinePlot.Panel> panels = new ArrayList<>();
        List<Double> ticks = plan.missing();
        for (String h : Experiments.TASKS) {
            List<LinePlot.Series> series = new ArrayList<>();
            int i = 0;
            for (int n : plan.multiTaskSizes()) {
                Color c = LinePlot.COLORS[i++ % LinePlot.COLORS.length];
                for (String setup : List.of("multi", "separate")) {
                    List<LinePlot.Point> pts = new ArrayList<>();
                    for (double miss : plan.missing()) {
                        Stat s = stat("multitask", h, Map.of("n_per_class", n, "missing", miss, "setup", setup));
                        pts.add(new LinePlot.Point(miss, s.mean(), s.std()));
                    }
                    series.add(new LinePlot.Series((setup.equals("multi") ? "one net, 3 heads" : "3 separate nets") + ", n = " + n + " per digit",
                            c, setup.equals("separate"), pts));
                }
            }
            panels.add(new LinePlot.Panel(h.replace('_', ' '), "share of training labels missing", "test accuracy", ticks, false, series));
        }
        return panels;
    }
}
