package dev.graft.exec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A model's {@link FixedGraphExecutor}s for inference ({@code GraftModel.run}), one per set of requested tensors.
 * Held by the model rather than globally: an executor's ops reference their graph, so a global cache would keep
 * every graph ever run alive. An executor whose ops are no longer the graph's (surgery cut or rewired them) is
 * rebuilt. Weights may change between calls (training updates them in place): no weight counts as fixed.
 */
public final class ExecutorCache {

    private final Map<List<String>, Optional<FixedGraphExecutor>> byOutputs = new HashMap<>();

    /** The requested tensors, or null when the graph is one the executor does not take (SameDiff's session runs it). */
    public synchronized Map<String, INDArray> run(SameDiff graph, Map<String, INDArray> feeds, List<String> requested) {
        List<String> key = List.copyOf(requested);
        Optional<FixedGraphExecutor> e = byOutputs.get(key);
        if (e == null || e.isPresent() && !e.get().matches(graph)) {
            e = FixedGraphExecutor.compile(graph, new ArrayList<>(key));
            byOutputs.put(key, e);
        }
        return e.isEmpty() ? null : e.get().run(feeds);
    }
}
