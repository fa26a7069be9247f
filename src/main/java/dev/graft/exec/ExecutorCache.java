package dev.graft.exec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One {@link FixedGraphExecutor} per graph and set of requested tensors, for inference ({@code GraftModel.run}).
 * Graft's surgery forgets a graph's executors when it changes the graph ({@link #forget}); as a second guard an
 * executor is rebuilt when the graph's op or variable count moved. Weights may change between calls (training
 * updates them in place): inference executors treat no weight as fixed.
 */
public final class ExecutorCache {

    private record Entry(int ops, int variables, Optional<FixedGraphExecutor> executor) {
    }

    private static final Map<SameDiff, Map<List<String>, Entry>> CACHE = Collections.synchronizedMap(new WeakHashMap<>());

    private ExecutorCache() {
    }

    /** The requested tensors, or null when the graph is one the executor does not take (SameDiff's session runs it). */
    public static Map<String, INDArray> run(SameDiff graph, Map<String, INDArray> feeds, List<String> requested) {
        Map<List<String>, Entry> byOutputs = CACHE.computeIfAbsent(graph, g -> Collections.synchronizedMap(new HashMap<>()));
        List<String> key = List.copyOf(requested);
        int ops = graph.getOps().size();
        int variables = graph.variableMap().size();
        Entry e = byOutputs.get(key);
        if (e == null || e.ops() != ops || e.variables() != variables) {
            e = new Entry(ops, variables, FixedGraphExecutor.compile(graph, new ArrayList<>(key)));
            byOutputs.put(key, e);
        }
        if (e.executor().isEmpty()) return null;
        FixedGraphExecutor executor = e.executor().get();
        synchronized (executor) {
            return executor.run(feeds);
        }
    }

    /** The graph changed: its executors are stale. */
    public static void forget(SameDiff graph) {
        CACHE.remove(graph);
    }
}
