package dev.graft.train;

import java.util.List;
import java.util.Map;

/**
 * What a training run did: one row per epoch (the rows of metrics.json), the best epoch by the watched
 * metric (whose weights the model holds at the end when there was one), whether it stopped early, whether
 * heads trained on cached trunk outputs (and the one-off time to compute them), and the measured time of
 * every training step (gradients and update; not data preparation).
 */
public record FitResult(List<Map<String, Object>> history, int bestEpoch, String watchedMetric, boolean stoppedEarly,
                        boolean featureCache, int steps, double secondsTraining, double meanStepMillis,
                        double cacheSeconds, List<Double> stepMillis) {
    public FitResult {
        history = List.copyOf(history);
        stepMillis = List.copyOf(stepMillis);
    }

    /** Median time of the last half of the steps: the warm speed. */
    public double warmStepMillis() {
        List<Double> tail = new java.util.ArrayList<>(stepMillis.subList(stepMillis.size() / 2, stepMillis.size()));
        java.util.Collections.sort(tail);
        return tail.isEmpty() ? Double.NaN : tail.get(tail.size() / 2);
    }

    /** A JSON summary for the exported model's metadata: heads, rows, epochs, best epoch, the last epoch's row. */
    public String summaryJson(List<String> heads, int trainRows) {
        return summaryJson(heads, trainRows, Map.of());
    }

    /** The same, with fields of the caller's first (a job file's name, its cut and freeze rule). */
    public String summaryJson(List<String> heads, int trainRows, Map<String, Object> context) {
        Map<String, Object> m = new java.util.LinkedHashMap<>(context);
        m.put("heads", heads);
        m.put("train_rows", trainRows);
        m.put("epochs_run", history.size());
        m.put("best_epoch", bestEpoch);
        m.put("watched_metric", watchedMetric);
        m.put("stopped_early", stoppedEarly);
        m.put("feature_cache", featureCache);
        Map<String, Object> last = new java.util.LinkedHashMap<>();
        if (!history.isEmpty()) {
            history.get(history.size() - 1).forEach((k, v) -> last.put(k, v instanceof Double d && !Double.isFinite(d) ? null : v));
        }
        m.put("last_epoch", last);
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
