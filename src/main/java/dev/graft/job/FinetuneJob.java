package dev.graft.job;

import dev.graft.Graft;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.data.Dataset;
import dev.graft.data.Datasets;
import dev.graft.data.HeadLabels;
import dev.graft.data.LabelKind;
import dev.graft.onnx.export.OnnxExporter;
import dev.graft.onnx.runtime.OrtRunner;
import dev.graft.surgery.HeadSpec;
import dev.graft.surgery.Heads;
import dev.graft.surgery.Surgery;
import dev.graft.train.FitResult;
import dev.graft.train.TrainSettings;
import dev.graft.train.report.CurvePlot;
import dev.graft.train.report.MetricsLog;
import dev.graft.verify.Agreement;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs a job file: load, cut, attach heads, freeze, train, write metrics.json and curves.png, export to
 * ONNX and check the export in ONNX Runtime against SameDiff. The run folder holds
 * {@code metrics.json}, {@code curves.png}, {@code checkpoints/} and (unless the job names another place)
 * {@code model.onnx}.
 */
public final class FinetuneJob {

    /** Tolerance of the export check: float32 sums reordered between SameDiff and ONNX Runtime. */
    public static final double VERIFY_ATOL = 1e-4;

    /** What a run did, for the report and the tests. */
    public record Summary(String cutTensor, FitResult fit, Path metrics, Path curves, Path onnx,
                          Map<String, Double> exportMaxAbsError, boolean exportVerified, int trainRows, int validationRows,
                          GraftModel model) {
    }

    private FinetuneJob() {
    }

    public static Summary run(JobFile job, Path runDir, boolean resume, PrintStream out, boolean quiet) {
        GraftModel model = Graft.load(job.source(), job.sourceOptions());
        out.printf("source: %s (%s, %d nodes, %,d parameters)%n", job.source(), model.source().format(),
                model.source().nodeCount(), model.parameterCount());

        String cutTensor;
        if (job.cut().equals(List.of("auto"))) {
            Surgery.AutoCut auto = Surgery.autoCut(model);
            cutTensor = auto.tensor();
            out.printf("cut auto: at '%s' (%s)%n", auto.tensor(), auto.reason());
            model = model.cut(auto.tensor());
        } else {
            cutTensor = job.cut().get(0);
            model = model.cut(job.cut().toArray(String[]::new));
            out.printf("cut: at %s%n", job.cut());
        }
        for (HeadSpec h : job.heads()) {
            HeadSpec spec = h.from() == null ? h.withFrom(cutTensor) : h;
            model = model.attachHead(spec);
            Heads.AttachedHead a = model.heads().get(model.heads().size() - 1);
            out.printf("head '%s': from '%s' (%d features%s), layers %s, %s over %d, %d weights%n", spec.name(), a.from(),
                    a.features(), a.flattened() ? ", flattened" : "", spec.layers(), spec.output().name().toLowerCase(),
                    spec.size(), a.variables().size());
        }
        model = model.freeze(job.freeze());
        out.printf("freeze: %s (bn %s): %d trunk weights train%n", describe(job), job.freeze().batchNorm().name().toLowerCase(),
                job.freeze().trainableTrunk(model).size());

        List<HeadLabels> labels = new ArrayList<>();
        for (HeadSpec h : job.heads()) {
            LabelKind kind = switch (h.output()) {
                case SOFTMAX -> LabelKind.CLASSES;
                case SIGMOID -> LabelKind.MULTI_LABEL;
                case LINEAR -> LabelKind.VALUES;
            };
            labels.add(new HeadLabels(h.name(), kind, h.size()));
        }
        Dataset train = load(job, job.data().train(), model, labels);
        Dataset validation = job.data().validation() == null ? null : load(job, job.data().validation(), model, labels);

        JobFile.Train t = job.train();
        TrainSettings settings = TrainSettings.defaults().withEpochs(t.epochs()).withBatchSize(t.batchSize())
                .withOptimizer(t.optimizer()).withLearningRate(t.learningRate()).withTrunkLearningRate(t.trunkLearningRate())
                .withMomentum(t.momentum())
                .withWeightDecay(t.weightDecay()).withClipNorm(t.clipNorm()).withSchedule(t.schedule(), t.stepEpochs(), t.stepGamma())
                .withSeed(t.seed()).withValidationSplit(job.data().split()).withValidation(validation)
                .withEarlyStopping(t.earlyStopMetric(), t.patience()).withCheckpoints(runDir.resolve("checkpoints"), resume)
                .withFeatureCache(t.featureCache()).withExecutor(t.executor()).withProgress(out, quiet);
        FitResult fit = model.fit(train, settings);
        out.printf("trained %d steps in %.1f s (%.1f ms a step%s)%n", fit.steps(), fit.secondsTraining(), fit.meanStepMillis(),
                fit.featureCache() ? ", heads on cached trunk outputs" : "");

        MetricsLog log = new MetricsLog();
        fit.history().forEach(log::add);
        Path metrics = runDir.resolve("metrics.json");
        log.write(metrics);
        Path curves = runDir.resolve("curves.png");
        CurvePlot.write(log, curves, job.file().getFileName() + ": " + String.join(", ", job.heads().stream().map(HeadSpec::name).toList()));

        Path onnx = job.export().onnx() != null ? job.export().onnx() : runDir.resolve("model.onnx");
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("job", job.file().getFileName().toString());
        context.put("cut", cutTensor);
        context.put("freeze", describe(job));
        context.put("validation_rows", validation == null ? 0 : validation.size());
        meta.put("graft.training", fit.summaryJson(job.heads().stream().map(HeadSpec::name).toList(), train.size(), context));
        new OnnxExporter().write(model, onnx, OnnxExporter.Options.defaults().withOpset(job.export().opset()).withMetadata(meta));
        Map<String, Double> errors = new LinkedHashMap<>();
        boolean verified = true;
        if (job.export().verify()) {
            Dataset probe = validation != null ? validation : train;
            int n = Math.min(64, probe.size());
            Map<String, INDArray> feeds = probe.batch(java.util.stream.IntStream.range(0, n).toArray()).inputs();
            Map<String, INDArray> mine = model.run(feeds, model.outputNames());
            try (OrtRunner ort = new OrtRunner(onnx)) {
                Map<String, INDArray> theirs = ort.run(feeds, model.outputNames());
                for (String o : model.outputNames()) {
                    Agreement a = Agreement.of(theirs.get(o), mine.get(o), VERIFY_ATOL, 0);
                    errors.put(o, a.maxAbs());
                    verified &= a.within();
                }
            }
            out.printf("export: %s verified in ONNX Runtime on %d rows: %s (max abs error per output; tolerance %.0e)%n", onnx, n,
                    errors, VERIFY_ATOL);
        } else {
            out.printf("export: %s (not verified: export.verify is false)%n", onnx);
        }
        out.printf("run folder: %s (metrics.json, curves.png, checkpoints/)%n", runDir);
        return new Summary(cutTensor, fit, metrics, curves, onnx, errors, verified, train.size(),
                validation == null ? 0 : validation.size(), model);
    }

    private static String describe(JobFile job) {
        var f = job.freeze();
        return switch (f.mode()) {
            case ALL -> "all";
            case NONE -> "none";
            case UNTIL -> "until:" + f.until();
            case LAST -> "last:" + f.last();
        };
    }

    private static Dataset load(JobFile job, Path where, GraftModel model, List<HeadLabels> labels) {
        String format = job.data().format();
        if (format.equals("auto")) {
            if (Files.isRegularFile(where) && where.toString().toLowerCase().endsWith(".csv")) format = "csv";
            else if (Files.isDirectory(where) && hasNpy(where)) format = "npy";
            else if (Files.isDirectory(where)) format = "images";
            else throw new GraftException(where + ": no such dataset (a folder of .npy files, image folders, or a .csv file)");
        }
        if (!model.inputNames().isEmpty() && model.inputs().size() != 1 && !format.equals("npy")) {
            throw new GraftException(where + ": " + format + " data feeds one input; the model has " + model.inputNames());
        }
        return switch (format) {
            case "npy" -> Datasets.npyDirectory(where, model.inputs(), labels);
            case "images" -> Datasets.imageFolders(where, ImageJobOptions.parse(job.data().images(), job.file()),
                    model.inputNames().get(0), labels.get(0));
            case "csv" -> Datasets.csv(where, CsvJobOptions.parse(job.data().csv(), job.file()), model.inputNames().get(0), labels);
            default -> throw new GraftException(job.file().getFileName() + ": data.format '" + format + "' is not one of auto, npy, images, csv");
        };
    }

    private static boolean hasNpy(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.toString().endsWith(".npy"));
        } catch (IOException e) {
            return false;
        }
    }
}
