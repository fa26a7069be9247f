package dev.graft.train;

import dev.graft.GraftException;
import dev.graft.data.Dataset;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * How to train. Defaults are what the job file documents.
 *
 * @param optimizer          adam | adamw | sgd (with Nesterov momentum {@code momentum}, ND4J's Nesterovs: the
 *                           first step moves (1 + momentum) * lr * g; momentum 0 is plain SGD)
 * @param nesterov           must be true when momentum &gt; 0 (ND4J offers no classical momentum)
 * @param trunkLearningRate  learning rate of unfrozen trunk weights (NaN: a tenth of {@code learningRate})
 * @param weightDecay        L2 on weights for adam and sgd; decoupled (AdamW) for adamw
 * @param clipNorm           global gradient norm limit (0: none)
 * @param schedule           none | cosine (to 0 over all steps) | step (times {@code stepGamma} every {@code stepEpochs})
 * @param validationSplit    share of the training data held out when no validation set is given
 * @param earlyStopMetric    metric watched for early stopping and the best checkpoint, e.g. val_loss or
 *                           val_digit_accuracy (losses and mae are minimised, others maximised); null: val_loss
 *                           when there is validation data
 * @param patience           epochs without improvement before stopping (0: never stop early)
 * @param checkpointDir      where a checkpoint per epoch (weights and optimizer state) and the best one go (null: none)
 * @param resume             continue from the newest checkpoint in {@code checkpointDir}
 * @param featureCache       auto | on | off: train heads on trunk outputs computed once, when the trunk is frozen
 * @param executor           fixed | samediff: how a training step runs; fixed (the default) runs the graph as a
 *                           precomputed op list with reused arrays (FixedGraphExecutor) and falls back to samediff,
 *                           SameDiff's own session, for graphs with control flow
 * @param opTimings          when not null, the fixed executor adds each op type's time of the training steps
 *                           to it (op type to {nanoseconds, calls}); for profiling
 */
public record TrainSettings(int epochs, int batchSize, String optimizer, double learningRate, double trunkLearningRate,
                            double momentum, boolean nesterov, double weightDecay, double clipNorm, String schedule,
                            int stepEpochs, double stepGamma, long seed, double validationSplit, Dataset validation,
                            String earlyStopMetric, int patience, Path checkpointDir, boolean resume, String featureCache,
                            PrintStream progress, boolean quiet, String executor,
                            java.util.Map<String, long[]> opTimings) {

    public static final List<String> OPTIMIZERS = List.of("adam", "adamw", "sgd");
    public static final List<String> SCHEDULES = List.of("none", "cosine", "step");
    public static final List<String> EXECUTORS = List.of("fixed", "samediff");

    public TrainSettings {
        optimizer = optimizer.toLowerCase(Locale.ROOT);
        schedule = schedule.toLowerCase(Locale.ROOT);
        featureCache = featureCache.toLowerCase(Locale.ROOT);
        executor = executor.toLowerCase(Locale.ROOT);
        if (epochs <= 0) throw new GraftException("train.epochs " + epochs + " must be positive");
        if (batchSize <= 0) throw new GraftException("train.batch_size " + batchSize + " must be positive");
        if (!OPTIMIZERS.contains(optimizer)) throw new GraftException("train.optimizer '" + optimizer + "' is not one of " + OPTIMIZERS);
        if (!SCHEDULES.contains(schedule)) throw new GraftException("train.schedule '" + schedule + "' is not one of " + SCHEDULES);
        if (!(learningRate > 0)) throw new GraftException("train.learning_rate " + learningRate + " must be positive");
        if (!(validationSplit >= 0 && validationSplit < 1)) throw new GraftException("data.split " + validationSplit + " must be in [0, 1)");
        if (!List.of("auto", "on", "off").contains(featureCache)) throw new GraftException("train.feature_cache '" + featureCache + "' is not one of auto, on, off");
        if (!EXECUTORS.contains(executor)) throw new GraftException("train.executor '" + executor + "' is not one of " + EXECUTORS);
        if (resume && checkpointDir == null) throw new GraftException("resume needs a checkpoint folder");
        if (stepEpochs <= 0) throw new GraftException("train.step_epochs must be positive");
        if (optimizer.equals("sgd") && momentum > 0 && !nesterov) {
            throw new GraftException("train.momentum: graft's SGD momentum is Nesterov's (ND4J has no classical momentum)");
        }
    }

    public static TrainSettings defaults() {
        return new TrainSettings(5, 32, "adam", 1e-3, Double.NaN, 0.9, true, 0, 0, "none", 1, 0.5, 7, 0, null,
                null, 0, null, false, "auto", System.out, false, "fixed", null);
    }

    public double trunkRate() {
        return Double.isNaN(trunkLearningRate) ? learningRate / 10 : trunkLearningRate;
    }

    public TrainSettings withEpochs(int v) { return new TrainSettings(v, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withBatchSize(int v) { return new TrainSettings(epochs, v, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withOptimizer(String v) { return new TrainSettings(epochs, batchSize, v, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withLearningRate(double v) { return new TrainSettings(epochs, batchSize, optimizer, v, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withTrunkLearningRate(double v) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, v, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withMomentum(double v) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, v, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withWeightDecay(double v) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, v, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withClipNorm(double v) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, v, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withSchedule(String v, int everyEpochs, double gamma) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, v, everyEpochs, gamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withSeed(long v) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, v, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withValidationSplit(double v) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, v, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withValidation(Dataset v) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, v, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withEarlyStopping(String metric, int p) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, metric, p, checkpointDir, resume, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withCheckpoints(Path dir, boolean resumeFromThem) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, dir, resumeFromThem, featureCache, progress, quiet, executor, opTimings); }
    public TrainSettings withFeatureCache(String v) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, v, progress, quiet, executor, opTimings); }
    public TrainSettings withProgress(PrintStream v, boolean q) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, v, q, executor, opTimings); }
    public TrainSettings withExecutor(String v) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, v, opTimings); }
    public TrainSettings withOpTimings(java.util.Map<String, long[]> v) { return new TrainSettings(epochs, batchSize, optimizer, learningRate, trunkLearningRate, momentum, nesterov, weightDecay, clipNorm, schedule, stepEpochs, stepGamma, seed, validationSplit, validation, earlyStopMetric, patience, checkpointDir, resume, featureCache, progress, quiet, executor, v); }
}
