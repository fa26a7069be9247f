package dev.graft.train;

import java.util.List;
import java.util.Map;

/**
 * What a training run did: one row per epoch (the rows of metrics.json), the best epoch by the watched
 * metric (whose weights the model holds at the end when there was one), whether it stopped early, whether
 * heads trained on cached trunk outputs, and the measured time per training step.
 */
public record FitResult(List<Map<String, Object>> history, int bestEpoch, String watchedMetric, boolean stoppedEarly,
                        boolean featureCache, int steps, double secondsTraining, double meanStepMillis) {
    public FitResult {
        history = List.copyOf(history);
    }
}
