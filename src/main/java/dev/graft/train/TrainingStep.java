package dev.graft.train;

import dev.graft.exec.FixedGraphExecutor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One training step's forward and backward pass: the wanted outputs and the weights' gradients. Runs the
 * graph's gradient function with {@link FixedGraphExecutor} when it can, else with SameDiff's
 * {@code calculateGradientsAndOutputs}; both run the same ND4J kernels on the same arrays.
 */
final class TrainingStep {

    private final SameDiff graph;
    private final List<String> wanted;
    private final List<String> weights;
    private final FixedGraphExecutor executor; // null: SameDiff's session
    private final Map<String, String> gradientOf = new LinkedHashMap<>(); // weight -> its gradient's name

    private TrainingStep(SameDiff graph, List<String> wanted, List<String> weights, FixedGraphExecutor executor) {
        this.graph = graph;
        this.wanted = wanted;
        this.weights = weights;
        this.executor = executor;
    }

    static TrainingStep of(SameDiff graph, List<String> wanted, List<String> weights, String how, Map<String, long[]> opTimings) {
        if (how.equals("samediff")) return new TrainingStep(graph, wanted, weights, null);
        SameDiff gradients = graph.getFunction("grad");
        if (gradients == null) return new TrainingStep(graph, wanted, weights, null);
        Map<String, String> names = new LinkedHashMap<>();
        for (String w : weights) {
            SDVariable g = graph.getVariable(w).getGradient();
            // A weight the loss does not depend on has no gradient, as in calculateGradientsAndOutputs.
            if (g != null) names.put(w, g.name());
        }
        List<String> outputs = new ArrayList<>(wanted);
        names.values().forEach(n -> {
            if (!outputs.contains(n)) outputs.add(n);
        });
        // Weights that do not train stay as they are between steps: what only they feed is computed once.
        Set<String> training = new HashSet<>(weights);
        Set<String> frozen = new HashSet<>();
        for (SDVariable v : gradients.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE && !training.contains(v.name())) frozen.add(v.name());
        }
        Optional<FixedGraphExecutor> fixed = FixedGraphExecutor.compile(gradients, outputs, frozen);
        if (opTimings != null) fixed.ifPresent(f -> f.profileInto(opTimings));
        TrainingStep step = new TrainingStep(graph, wanted, weights, fixed.orElse(null));
        step.gradientOf.putAll(names);
        return step;
    }

    /** Whether steps run on {@link FixedGraphExecutor}. */
    boolean fixed() {
        return executor != null;
    }

    /** Frozen weights changed in place (bn: stats re-estimates the statistics each epoch). */
    void frozenWeightsChanged() {
        if (executor != null) executor.refreshFixed();
    }

    OutAndGrad run(Map<String, INDArray> feeds) {
        if (executor == null) return graph.calculateGradientsAndOutputs(feeds, wanted, weights);
        Map<String, INDArray> all = executor.run(feeds);
        Map<String, INDArray> outputs = new LinkedHashMap<>();
        for (String w : wanted) outputs.put(w, all.get(w));
        Map<String, INDArray> gradients = new LinkedHashMap<>();
        gradientOf.forEach((w, g) -> gradients.put(w, all.get(g)));
        return new OutAndGrad(outputs, gradients);
    }
}
