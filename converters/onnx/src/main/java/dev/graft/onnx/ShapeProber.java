package dev.graft.onnx;

import dev.graft.GraftException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Shapes of run-time values, found by evaluating the nodes they depend on, each at most once per probe
 * run, on generated inputs. With dynamic input dims there are two runs with different sizes for them,
 * and a dimension that differs between the runs is reported as -1.
 */
final class ShapeProber implements ImportContext.ShapeProbe {
    private final List<Map<String, INDArray>> runs = new ArrayList<>();
    private final ConverterRegistry registry;
    private final Map<String, OnnxNode> producers;
    ImportContext main;

    ShapeProber(ConverterRegistry registry, List<Map<String, INDArray>> feeds, Map<String, OnnxNode> producers) {
        this.registry = registry;
        for (Map<String, INDArray> feed : feeds) runs.add(new HashMap<>(feed));
        this.producers = producers;
    }

    @Override
    public long[] shapeOf(String onnxName) {
        long[] a = value(onnxName, 0).shape().clone(); // shape() is the array's own descriptor: never mutate it
        for (int run = 1; run < runs.size(); run++) {
            long[] b = value(onnxName, run).shape();
            if (a.length != b.length) {
                throw new GraftException("the rank of '" + onnxName + "' depends on the input sizes ("
                        + java.util.Arrays.toString(a) + " vs " + java.util.Arrays.toString(b) + ")");
            }
            for (int k = 0; k < a.length; k++) {
                if (a[k] != b[k]) a[k] = -1;
            }
        }
        return a;
    }

    private INDArray value(String onnxName, int run) {
        Map<String, INDArray> cache = runs.get(run);
        Deque<String> stack = new ArrayDeque<>();
        stack.push(onnxName);
        while (!stack.isEmpty()) {
            String current = stack.peek();
            if (cache.containsKey(current)) {
                stack.pop();
                continue;
            }
            INDArray known = main.knownArray(current);
            if (known != null) {
                cache.put(current, known);
                stack.pop();
                continue;
            }
            OnnxNode node = producers.get(current);
            if (node == null) {
                throw new GraftException("internal error: no producer for '" + current + "' while probing shapes");
            }
            boolean ready = true;
            for (String in : node.inputs()) {
                if (!in.isEmpty() && !cache.containsKey(in)) {
                    stack.push(in);
                    ready = false;
                }
            }
            if (!ready) {
                continue;
            }
            NodeImporter importer = registry.importer(node.domain(), node.opType(), node.opset()).orElseThrow();
            try {
                cache.putAll(NodeEvaluation.evaluate(node, importer, node.opset(), cache::get));
            } catch (RuntimeException e) {
                throw new GraftException(node.describe() + ": failed while probing shapes on generated inputs: "
                        + e.getMessage(), e);
            }
            stack.pop();
        }
        return cache.get(onnxName);
    }
}
