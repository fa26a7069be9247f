package dev.graft.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.data.Batch;
import dev.graft.data.Dataset;
import dev.graft.io.AtomicFiles;
import dev.graft.io.Npy;
import dev.graft.surgery.HeadSpec;
import dev.graft.surgery.Heads;
import dev.graft.surgery.SameDiffState;
import dev.graft.train.report.EpochProgress;
import dev.graft.train.report.HeadMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Trains a model's heads (and the trunk weights its {@link Freeze} rule lets train) with graft's own loop:
 * gradients of the weighted sum of the heads' losses from SameDiff, one ND4J updater per weight (so the
 * trunk can have its own learning rate, and the optimizer state can be saved and restored exactly),
 * global-norm clipping, decoupled weight decay for AdamW, cosine or step decay.
 *
 * <p>Missing labels (-1 for classes, NaN for float labels) are left out of their head's loss and metrics
 * entry by entry; a batch without any label for a head contributes nothing to it.
 *
 * <p>When no trunk weight trains (and {@code feature_cache} is not off), the trunk's outputs are computed
 * once and the heads train on them in a small graph that shares the heads' weight arrays.
 *
 * <p>Determinism: the shuffle of epoch e comes from (seed, e) and the dropout masks of step i from
 * (seed, i), so a run resumed from a checkpoint continues exactly as the uninterrupted run would have.
 */
public final class FineTuner {

    private final GraftModel model;
    private final TrainSettings s;

    public FineTuner(GraftModel model, TrainSettings settings) {
        this.model = model;
        this.s = settings;
    }

    /** The graph training runs on, its inputs, and the weights that train. */
    private record Plan(SameDiff graph, boolean cache, Map<String, String> featureInputs, List<String> trainable,
                        Set<String> trunk, String loss, String valLoss) {
    }

    public FitResult fit(Dataset trainData) {
        SameDiffState.useExactSessions();
        if (model.heads().isEmpty()) {
            throw new GraftException("fit: the model has no head; attach one (attachHead / heads: in the job file)");
        }
        Dataset train = trainData;
        Dataset validation = s.validation();
        if (validation == null && s.validationSplit() > 0) {
            Dataset[] parts = trainData.split(s.validationSplit(), s.seed());
            train = parts[0];
            validation = parts[1];
        }
        checkLabels(train, "training data");
        if (validation != null) checkLabels(validation, "validation data");
        if (train.size() == 0) throw new GraftException("fit: the training data is empty");

        // bn: stats: BatchNormalization's running statistics are re-estimated on the training data; with a
        // frozen trunk once (then the trunk is fixed, and the feature cache still applies), else every epoch.
        List<String[]> batchNorms = model.freezing().batchNorm() == Freeze.BatchNorm.STATS
                ? Freeze.batchNormStatistics(model) : List.of();
        boolean trunkTrains = !model.freezing().trainableTrunk(model).isEmpty();
        Checkpoint resumeFrom = s.resume() ? Checkpoint.newest(s.checkpointDir()) : null;
        if (!batchNorms.isEmpty() && resumeFrom == null) recalibrate(batchNorms, train);
        Plan plan = plan();
        List<String> saved = new ArrayList<>(plan.trainable());
        for (String[] bn : batchNorms) {
            saved.add(bn[1]);
            saved.add(bn[2]);
        }
        long cacheStart = System.nanoTime();
        Map<String, INDArray> trainCache = plan.cache() ? features(train, plan) : null;
        Map<String, INDArray> valCache = plan.cache() && validation != null ? features(validation, plan) : null;
        double cacheSeconds = plan.cache() ? (System.nanoTime() - cacheStart) / 1e9 : 0;
        List<Double> stepMillis = new ArrayList<>();

        Map<String, GradientUpdater> updaters = new LinkedHashMap<>();
        Map<String, INDArray> states = new LinkedHashMap<>();
        for (String v : plan.trainable()) {
            INDArray p = plan.graph().getArrForVarName(v);
            IUpdater config = updaterConfig(plan.trunk().contains(v) ? s.trunkRate() : s.learningRate());
            long size = config.stateSize(p.length());
            INDArray state = size == 0 ? null : Nd4j.zeros(p.dataType(), 1, size);
            GradientUpdater u = config.instantiate(state, true);
            if (state != null) u.setStateViewArray(state, p.shape(), p.ordering(), true);
            updaters.put(v, u);
            if (state != null) states.put(v, state);
        }

        String watched = s.earlyStopMetric() != null ? s.earlyStopMetric() : validation != null ? "val_loss" : null;
        boolean minimise = watched != null && (watched.endsWith("loss") || watched.endsWith("mae"));
        List<Map<String, Object>> history = new ArrayList<>();
        int startEpoch = 1;
        long iteration = 0;
        int bestEpoch = -1;
        double bestValue = Double.NaN;
        int sinceBest = 0;
        Map<String, INDArray> bestWeights = null;
        if (resumeFrom != null) {
            Checkpoint c = resumeFrom;
            c.restore(model.sameDiff(), plan.graph(), saved, states);
            history.addAll(c.history);
            startEpoch = c.epoch + 1;
            iteration = c.iteration;
            bestEpoch = c.bestEpoch;
            bestValue = c.bestValue;
            sinceBest = c.sinceBest;
            Path best = s.checkpointDir().resolve("best");
            if (bestEpoch > 0 && Files.isDirectory(best)) bestWeights = Checkpoint.readArrays(best, saved);
        }

        List<String> wanted = new ArrayList<>();
        wanted.add(plan.loss());
        for (Heads.AttachedHead h : model.heads()) wanted.add(h.spec().name() + "/train_out");
        TrainingStep step = TrainingStep.of(plan.graph(), wanted, plan.trainable(), s.executor(), s.opTimings());
        int stepsPerEpoch = (train.size() + s.batchSize() - 1) / s.batchSize();
        long totalSteps = (long) stepsPerEpoch * s.epochs();
        boolean stoppedEarly = false;
        long trainingNanos = 0;
        int steps = 0;
        for (int epoch = startEpoch; epoch <= s.epochs(); epoch++) {
            int[] order = shuffled(train.size(), s.seed(), epoch);
            Map<String, List<INDArray>> outs = new LinkedHashMap<>();
            Map<String, List<INDArray>> labels = new LinkedHashMap<>();
            double lossSum = 0;
            int lossCount = 0;
            try (EpochProgress progress = new EpochProgress(s.progress(), "epoch " + epoch + "/" + s.epochs(), train.size(), s.quiet())) {
                for (int b = 0; b < stepsPerEpoch; b++) {
                    int[] rows = java.util.Arrays.copyOfRange(order, b * s.batchSize(), Math.min(train.size(), (b + 1) * s.batchSize()));
                    // With the feature cache the inputs are not needed: gathering them would copy images for nothing.
                    Batch batch = plan.cache() ? new Batch(Map.of(), train.labels(rows)) : train.batch(rows);
                    Map<String, INDArray> feeds = feeds(plan, batch, trainCache, rows, true, iteration);
                    long t0 = System.nanoTime();
                    OutAndGrad og = step.run(feeds);
                    applyUpdates(plan, updaters, og.getGradients(), iteration, epoch, totalSteps, stepsPerEpoch);
                    long stepNanos = System.nanoTime() - t0;
                    trainingNanos += stepNanos;
                    stepMillis.add(stepNanos / 1e6);
                    steps++;
                    iteration++;
                    double loss = og.getOutputs().get(plan.loss()).getDouble(0);
                    if (!Double.isFinite(loss)) {
                        throw new GraftException("fit: the loss became " + loss + " at epoch " + epoch + ", step " + (b + 1)
                                + "; lower the learning rate or clip gradients (train.clip_norm)");
                    }
                    lossSum += loss * rows.length;
                    lossCount += rows.length;
                    for (Heads.AttachedHead h : model.heads()) {
                        outs.computeIfAbsent(h.spec().name(), k -> new ArrayList<>()).add(og.getOutputs().get(h.spec().name() + "/train_out").dup());
                        labels.computeIfAbsent(h.spec().name(), k -> new ArrayList<>()).add(batch.labels().get(h.spec().name()));
                    }
                    progress.step(rows.length, Map.of("loss", lossSum / lossCount));
                }
                if (!batchNorms.isEmpty() && trunkTrains) {
                    recalibrate(batchNorms, train);
                    step.frozenWeightsChanged();
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("epoch", epoch);
                row.put("train_loss", lossSum / lossCount);
                metrics(row, "", outs, labels);
                if (validation != null) evaluate(plan, validation, valCache, row);
                history.add(row);
                progress.finish(row);
            }
            Map<String, Object> last = history.get(history.size() - 1);
            if (watched != null) {
                Object v = last.get(watched);
                if (!(v instanceof Number)) {
                    throw new GraftException("early stopping: no metric '" + watched + "'; the epoch has " + last.keySet());
                }
                double value = ((Number) v).doubleValue();
                boolean better = Double.isNaN(bestValue) || (minimise ? value < bestValue : value > bestValue);
                if (better) {
                    bestValue = value;
                    bestEpoch = epoch;
                    sinceBest = 0;
                    bestWeights = copies(model.sameDiff(), plan.graph(), saved);
                    if (s.checkpointDir() != null) Checkpoint.writeArrays(s.checkpointDir().resolve("best"), bestWeights, saved);
                } else {
                    sinceBest++;
                }
            }
            if (s.checkpointDir() != null) {
                new Checkpoint(epoch, iteration, history, bestEpoch, bestValue, sinceBest)
                        .write(s.checkpointDir(), model.sameDiff(), plan.graph(), saved, states);
            }
            if (s.patience() > 0 && sinceBest >= s.patience()) {
                stoppedEarly = true;
                break;
            }
        }
        if (bestWeights != null && bestEpoch != ((Number) history.get(history.size() - 1).get("epoch")).intValue()) {
            // The model keeps the best epoch's weights (what the best checkpoint holds), as Keras' restore_best_weights.
            for (String v : saved) array(model.sameDiff(), plan.graph(), v).assign(bestWeights.get(v));
        }
        return new FitResult(history, bestEpoch, watched, stoppedEarly, plan.cache(), steps, trainingNanos / 1e9,
                steps == 0 ? 0 : trainingNanos / 1e6 / steps, cacheSeconds, stepMillis);
    }

    private void checkLabels(Dataset d, String what) {
        for (Heads.AttachedHead h : model.heads()) {
            if (!d.labels().containsKey(h.spec().name())) {
                throw new GraftException(what + " has no labels for head '" + h.spec().name() + "' (it has "
                        + d.labels().keySet() + ")");
            }
        }
    }

    // ---------------------------------------------------------------- the training graph

    private Plan plan() {
        SameDiff sd = model.sameDiff();
        Set<String> trunk = new LinkedHashSet<>(model.freezing().trainableTrunk(model));
        boolean cache = switch (s.featureCache()) {
            case "off" -> false;
            case "on" -> {
                if (!trunk.isEmpty()) throw new GraftException("feature_cache: on needs a frozen trunk (freeze: all)");
                yield true;
            }
            default -> trunk.isEmpty();
        };
        List<String> headVars = new ArrayList<>();
        model.heads().forEach(h -> headVars.addAll(h.variables()));
        if (cache) {
            SameDiff hg = SameDiff.create();
            Map<String, String> featureInputs = new LinkedHashMap<>();
            for (Heads.AttachedHead h : model.heads()) {
                String ph = featureInputs.computeIfAbsent(h.from(), k -> "graft_features_" + featureInputs.size());
                SDVariable x = hg.hasVariable(ph) ? hg.getVariable(ph) : hg.placeHolder(ph, DataType.FLOAT, -1, h.features());
                // Same weight arrays as the model's heads: training here updates the model in place.
                Heads.build(hg, x, h.spec(), h.from(), h.features(), h.flattened(), (name, dims) -> sd.getArrForVarName(name));
            }
            String[] losses = addLosses(hg);
            return new Plan(hg, true, featureInputs, headVars, Set.of(), losses[0], losses[1]);
        }
        String[] losses = addLosses(sd);
        // Only trunk weights the loss depends on can train (a weight of a branch the heads do not use cannot).
        Set<String> reachable = Freeze.ancestors(sd, losses[0]);
        List<String> trainable = new ArrayList<>(headVars);
        for (String v : trunk) if (reachable.contains(v)) trainable.add(v);
        trunk.retainAll(reachable);
        return new Plan(sd, false, Map.of(), trainable, trunk, losses[0], losses[1]);
    }

    /**
     * Adds, once per graph, each head's label placeholder, training output and masked losses (training
     * branch and inference branch), and their weighted sums; returns the names of the two sums.
     */
    private String[] addLosses(SameDiff g) {
        String total = "graft/loss";
        String totalVal = "graft/val_loss";
        if (g.hasVariable(total)) return new String[]{total, totalVal};
        SDVariable sum = null;
        SDVariable valSum = null;
        for (Heads.AttachedHead h : model.heads()) {
            HeadSpec spec = h.spec();
            String n = spec.name();
            SDVariable labels = spec.output() == HeadSpec.OutputKind.SOFTMAX
                    ? g.placeHolder(h.labels(), DataType.LONG, -1)
                    : g.placeHolder(h.labels(), DataType.FLOAT, -1, spec.size());
            SDVariable trainLogits = g.getVariable(h.trainLogits());
            switch (spec.output()) {
                case SOFTMAX -> g.nn.softmax(n + "/train_out", trainLogits, 1);
                case SIGMOID -> g.nn.sigmoid(n + "/train_out", trainLogits);
                case LINEAR -> g.identity(n + "/train_out", trainLogits);
            }
            SDVariable loss = Losses.masked(g, spec, trainLogits, labels, n + "/loss");
            SDVariable val = Losses.masked(g, spec, g.getVariable(h.logits()), labels, n + "/val_loss");
            SDVariable weighted = loss.mul(spec.lossWeight());
            SDVariable weightedVal = val.mul(spec.lossWeight());
            sum = sum == null ? weighted : sum.add(weighted);
            valSum = valSum == null ? weightedVal : valSum.add(weightedVal);
        }
        g.identity(total, sum);
        g.identity(totalVal, valSum);
        g.setLossVariables(total);
        SameDiffState.reset(g);
        SameDiffState.createGradientFunction(g);
        return new String[]{total, totalVal};
    }

    /** The trunk's outputs the heads read, for every row, computed once (flattened to [rows, features]). */
    private Map<String, INDArray> features(Dataset d, Plan plan) {
        Map<String, List<INDArray>> parts = new LinkedHashMap<>();
        List<String> tensors = new ArrayList<>(plan.featureInputs().keySet());
        for (int start = 0; start < d.size(); start += Math.max(s.batchSize(), 64)) {
            int end = Math.min(d.size(), start + Math.max(s.batchSize(), 64));
            int[] rows = java.util.stream.IntStream.range(start, end).toArray();
            Map<String, INDArray> out = model.run(d.inputs(rows), tensors);
            for (String t : tensors) {
                INDArray v = out.get(t);
                parts.computeIfAbsent(t, k -> new ArrayList<>()).add(v.reshape(v.size(0), v.length() / v.size(0)).dup());
            }
        }
        Map<String, INDArray> all = new LinkedHashMap<>();
        parts.forEach((t, list) -> all.put(t, Nd4j.concat(0, list.toArray(INDArray[]::new))));
        return all;
    }

    private Map<String, INDArray> feeds(Plan plan, Batch batch, Map<String, INDArray> cache, int[] rows, boolean training,
                                        long iteration) {
        Map<String, INDArray> feeds = new LinkedHashMap<>();
        if (plan.cache()) {
            plan.featureInputs().forEach((tensor, ph) -> feeds.put(ph, cache.get(tensor).getRows(rows)));
        } else {
            feeds.putAll(batch.inputs());
        }
        int n = rows.length;
        for (Heads.AttachedHead h : model.heads()) {
            feeds.put(h.labels(), batch.labels().get(h.spec().name()));
            int k = 0;
            for (Heads.Mask m : h.masks()) {
                feeds.put(m.name(), training ? mask(n, m.units(), h.spec().dropout(), iteration, k++) : Nd4j.ones(DataType.FLOAT, n, m.units()));
            }
        }
        return feeds;
    }

    /** Inverted dropout mask: each unit kept with probability 1 - p and scaled by 1 / (1 - p); seeded by step. */
    private INDArray mask(int rows, long units, double p, long iteration, int which) {
        SplittableRandom r = new SplittableRandom(s.seed() * 1_000_003L + iteration * 31 + which);
        float keep = (float) (1 - p);
        float[] v = new float[(int) (rows * units)];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble() < keep ? 1f / keep : 0f;
        return Nd4j.create(v, new long[]{rows, units}, 'c');
    }

    private static int[] shuffled(int n, long seed, int epoch) {
        int[] order = java.util.stream.IntStream.range(0, n).toArray();
        Random r = new Random(seed * 7919L + epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    // ---------------------------------------------------------------- updates

    private IUpdater updaterConfig(double lr) {
        return switch (s.optimizer()) {
            case "sgd" -> s.momentum() > 0 ? new Nesterovs(lr, s.momentum()) : new Sgd(lr);
            default -> new Adam(lr);
        };
    }

    private void applyUpdates(Plan plan, Map<String, GradientUpdater> updaters, Map<String, INDArray> grads, long iteration,
                              int epoch, long totalSteps, int stepsPerEpoch) {
        double factor = switch (s.schedule()) {
            case "cosine" -> 0.5 * (1 + Math.cos(Math.PI * Math.min(iteration, totalSteps) / totalSteps));
            case "step" -> Math.pow(s.stepGamma(), (epoch - 1) / s.stepEpochs());
            default -> 1.0;
        };
        if (s.clipNorm() > 0) {
            double sq = 0;
            for (INDArray g : grads.values()) {
                double n = g.norm2Number().doubleValue();
                sq += n * n;
            }
            double norm = Math.sqrt(sq);
            if (norm > s.clipNorm()) for (INDArray g : grads.values()) g.muli(s.clipNorm() / norm);
        }
        for (Map.Entry<String, GradientUpdater> e : updaters.entrySet()) {
            String v = e.getKey();
            INDArray p = plan.graph().getArrForVarName(v);
            INDArray g = grads.get(v);
            if (g == null) continue; // no path from this weight to the loss in this batch's graph
            double lr = (plan.trunk().contains(v) ? s.trunkRate() : s.learningRate()) * factor;
            IUpdater config = e.getValue().getConfig();
            if (config instanceof Adam a) a.setLearningRate(lr);
            else if (config instanceof Nesterovs nv) nv.setLearningRate(lr);
            else if (config instanceof Sgd sg) sg.setLearningRate(lr);
            boolean decoupled = s.optimizer().equals("adamw");
            if (s.weightDecay() > 0 && !decoupled && p.rank() > 1) g.addi(p.mul(s.weightDecay()));
            e.getValue().applyUpdater(g, (int) iteration, epoch - 1);
            if (s.weightDecay() > 0 && decoupled && p.rank() > 1) p.muli(1 - lr * s.weightDecay());
            p.subi(g);
        }
    }

    // ---------------------------------------------------------------- metrics

    private void metrics(Map<String, Object> row, String prefix, Map<String, List<INDArray>> outs, Map<String, List<INDArray>> labels) {
        for (Heads.AttachedHead h : model.heads()) {
            String n = h.spec().name();
            INDArray out = Nd4j.concat(0, outs.get(n).toArray(INDArray[]::new));
            INDArray lab = Nd4j.concat(0, labels.get(n).toArray(INDArray[]::new));
            Map<String, Double> m = switch (h.spec().output()) {
                case SOFTMAX -> HeadMetrics.classes(n, out, lab);
                case SIGMOID -> HeadMetrics.multiLabel(n, out, lab);
                case LINEAR -> HeadMetrics.values(n, out, lab);
            };
            m.forEach((k, v) -> row.put(prefix + n + "_" + k, v));
        }
    }

    private void evaluate(Plan plan, Dataset validation, Map<String, INDArray> cache, Map<String, Object> row) {
        Map<String, List<INDArray>> outs = new LinkedHashMap<>();
        Map<String, List<INDArray>> labels = new LinkedHashMap<>();
        double lossSum = 0;
        for (int start = 0; start < validation.size(); start += s.batchSize()) {
            int[] rows = java.util.stream.IntStream.range(start, Math.min(validation.size(), start + s.batchSize())).toArray();
            Batch batch = plan.cache() ? new Batch(Map.of(), validation.labels(rows)) : validation.batch(rows);
            Map<String, INDArray> feeds = feeds(plan, batch, cache, rows, false, 0);
            List<String> wanted = new ArrayList<>();
            wanted.add(plan.valLoss());
            for (Heads.AttachedHead h : model.heads()) wanted.add(h.spec().name());
            Map<String, INDArray> out = plan.graph().output(feeds, wanted);
            lossSum += out.get(plan.valLoss()).getDouble(0) * rows.length;
            for (Heads.AttachedHead h : model.heads()) {
                outs.computeIfAbsent(h.spec().name(), k -> new ArrayList<>()).add(out.get(h.spec().name()).dup());
                labels.computeIfAbsent(h.spec().name(), k -> new ArrayList<>()).add(batch.labels().get(h.spec().name()));
            }
        }
        row.put("val_loss", lossSum / validation.size());
        metrics(row, "val_", outs, labels);
    }

    private static Map<String, INDArray> copies(SameDiff model, SameDiff g, List<String> vars) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        for (String v : vars) m.put(v, array(model, g, v).dup());
        return m;
    }

    /** A weight's array: in the training graph (heads, trunk) or, for BatchNormalization statistics, the model's. */
    static INDArray array(SameDiff model, SameDiff g, String v) {
        return g.hasVariable(v) ? g.getArrForVarName(v) : model.getArrForVarName(v);
    }

    /**
     * bn: stats. Each BatchNormalization's running mean and (unbiased) variance become its input's per-channel
     * mean and variance over the training rows, node after node in graph order, so that every node sees
     * inputs normalised with the statistics already re-estimated before it (an exact, whole-dataset form of
     * what a momentum update of batch statistics approximates). Costs one pass over the data per node.
     */
    private void recalibrate(List<String[]> batchNorms, Dataset d) {
        for (String[] bn : batchNorms) {
            INDArray mean = model.sameDiff().getArrForVarName(bn[1]);
            INDArray var = model.sameDiff().getArrForVarName(bn[2]);
            int channels = (int) mean.length();
            double[] sum = new double[channels];
            double[] sq = new double[channels];
            long count = 0;
            for (int start = 0; start < d.size(); start += s.batchSize()) {
                int[] rows = java.util.stream.IntStream.range(start, Math.min(d.size(), start + s.batchSize())).toArray();
                INDArray x = model.run(d.inputs(rows), List.of(bn[0])).get(bn[0]).castTo(DataType.DOUBLE);
                int axis = Integer.parseInt(bn[3]) < 0 ? x.rank() + Integer.parseInt(bn[3]) : Integer.parseInt(bn[3]);
                int[] others = java.util.stream.IntStream.range(0, x.rank()).filter(a -> a != axis).toArray();
                double[] s1 = x.sum(others).data().asDouble();
                double[] s2 = x.mul(x).sum(others).data().asDouble();
                for (int c = 0; c < channels; c++) {
                    sum[c] += s1[c];
                    sq[c] += s2[c];
                }
                count += x.length() / channels;
            }
            double[] m = new double[channels];
            double[] v = new double[channels];
            for (int c = 0; c < channels; c++) {
                m[c] = sum[c] / count;
                v[c] = Math.max(0, (sq[c] - count * m[c] * m[c]) / Math.max(1, count - 1));
            }
            mean.assign(Nd4j.createFromArray(m).castTo(mean.dataType()).reshape(mean.shape()));
            var.assign(Nd4j.createFromArray(v).castTo(var.dataType()).reshape(var.shape()));
        }
    }

    // ---------------------------------------------------------------- checkpoints

    /**
     * One epoch's state: the training weights, the optimizer state, the step counter, the history and the
     * early-stopping bookkeeping. Written to a temporary folder renamed into place, so a run killed while
     * writing leaves the previous checkpoint intact.
     */
    static final class Checkpoint {
        final int epoch;
        final long iteration;
        final List<Map<String, Object>> history;
        final int bestEpoch;
        final double bestValue;
        final int sinceBest;

        Checkpoint(int epoch, long iteration, List<Map<String, Object>> history, int bestEpoch, double bestValue, int sinceBest) {
            this.epoch = epoch;
            this.iteration = iteration;
            this.history = history;
            this.bestEpoch = bestEpoch;
            this.bestValue = bestValue;
            this.sinceBest = sinceBest;
        }

        void write(Path dir, SameDiff model, SameDiff g, List<String> vars, Map<String, INDArray> states) {
            try {
                Files.createDirectories(dir);
                Path tmp = Files.createTempDirectory(dir, ".epoch-" + epoch + "-");
                for (int i = 0; i < vars.size(); i++) {
                    Npy.write(array(model, g, vars.get(i)), tmp.resolve("w" + i + ".npy"));
                    INDArray st = states.get(vars.get(i));
                    if (st != null) Npy.write(st, tmp.resolve("s" + i + ".npy"));
                }
                Map<String, Object> meta = new LinkedHashMap<>();
                meta.put("epoch", epoch);
                meta.put("iteration", iteration);
                meta.put("best_epoch", bestEpoch);
                meta.put("best_value", Double.isNaN(bestValue) ? null : bestValue);
                meta.put("since_best", sinceBest);
                meta.put("variables", vars);
                meta.put("history", sanitized(history));
                Files.write(tmp.resolve("state.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(meta));
                Path target = dir.resolve(String.format("epoch-%04d", epoch));
                if (Files.exists(target)) deleteTree(target);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new GraftException(dir + ": cannot write the checkpoint of epoch " + epoch + ": " + e.getMessage(), e);
            }
        }

        @SuppressWarnings("unchecked")
        static Checkpoint newest(Path dir) {
            if (!Files.isDirectory(dir)) return null;
            // A run killed while writing a checkpoint leaves its temporary folder: never read, removed here.
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".epoch-")
                        || p.getFileName().toString().startsWith(".best-")).toList()) {
                    deleteTree(p);
                }
            } catch (IOException e) {
                throw new GraftException(dir + ": cannot clean up a partial checkpoint: " + e.getMessage(), e);
            }
            try (Stream<Path> s = Files.list(dir)) {
                Path last = s.filter(p -> p.getFileName().toString().matches("epoch-\\d{4}") && Files.exists(p.resolve("state.json")))
                        .max(Path::compareTo).orElse(null);
                if (last == null) return null;
                Map<String, Object> meta = new ObjectMapper().readValue(last.resolve("state.json").toFile(), Map.class);
                Checkpoint c = new Checkpoint(((Number) meta.get("epoch")).intValue(), ((Number) meta.get("iteration")).longValue(),
                        restoredNaN((List<Map<String, Object>>) meta.get("history")), ((Number) meta.get("best_epoch")).intValue(),
                        meta.get("best_value") == null ? Double.NaN : ((Number) meta.get("best_value")).doubleValue(),
                        ((Number) meta.get("since_best")).intValue());
                c.folder = last;
                c.variables = (List<String>) meta.get("variables");
                return c;
            } catch (IOException | RuntimeException e) {
                throw new GraftException(dir + ": cannot read the newest checkpoint: " + e.getMessage(), e);
            }
        }

        Path folder;
        List<String> variables;

        void restore(SameDiff model, SameDiff g, List<String> vars, Map<String, INDArray> states) {
            if (!variables.equals(vars)) {
                throw new GraftException(folder + ": the checkpoint holds other weights than this job trains (" + variables.size()
                        + " vs " + vars.size() + "); resume needs the same job");
            }
            for (int i = 0; i < vars.size(); i++) {
                array(model, g, vars.get(i)).assign(Npy.read(folder.resolve("w" + i + ".npy")));
                INDArray st = states.get(vars.get(i));
                if (st != null) st.assign(Npy.read(folder.resolve("s" + i + ".npy")));
            }
        }

        static void writeArrays(Path dir, Map<String, INDArray> arrays, List<String> vars) {
            try {
                Files.createDirectories(dir.getParent());
                Path tmp = Files.createTempDirectory(dir.getParent(), ".best-");
                for (int i = 0; i < vars.size(); i++) Npy.write(arrays.get(vars.get(i)), tmp.resolve("w" + i + ".npy"));
                Files.write(tmp.resolve("variables.json"), new ObjectMapper().writeValueAsBytes(vars));
                if (Files.exists(dir)) deleteTree(dir);
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new GraftException(dir + ": cannot write the best checkpoint: " + e.getMessage(), e);
            }
        }

        static Map<String, INDArray> readArrays(Path dir, List<String> vars) {
            Map<String, INDArray> m = new LinkedHashMap<>();
            for (int i = 0; i < vars.size(); i++) m.put(vars.get(i), Npy.read(dir.resolve("w" + i + ".npy")));
            return m;
        }

        private static List<Map<String, Object>> sanitized(List<Map<String, Object>> rows) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Map<String, Object> r : rows) {
                Map<String, Object> c = new LinkedHashMap<>();
                r.forEach((k, v) -> c.put(k, v instanceof Double d && !Double.isFinite(d) ? null : v));
                out.add(c);
            }
            return out;
        }

        private static List<Map<String, Object>> restoredNaN(List<Map<String, Object>> rows) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Map<String, Object> r : rows) {
                Map<String, Object> c = new LinkedHashMap<>();
                r.forEach((k, v) -> c.put(k, v == null ? Double.NaN : v));
                out.add(c);
            }
            return out;
        }

        private static void deleteTree(Path p) throws IOException {
            try (Stream<Path> w = Files.walk(p)) {
                for (Path f : w.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
            }
        }
    }
}
