package dev.graft.tensorflow;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperationBuilder;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.DataType;

/**
 * Builds TensorFlow graphs node by node with TensorFlow Java's raw op builder, so a test names exactly the
 * op type it checks (Conv2D, FusedBatchNormV3, ...), runs them in TensorFlow, and saves them as GraphDefs.
 */
final class TfGraphBuilder implements AutoCloseable {
    final Graph graph = new Graph();

    Output<?> placeholder(String name, DataType type, long... shape) {
        return graph.opBuilder("Placeholder", name, graph.baseScope()).setAttr("dtype", type)
                .setAttr("shape", Shape.of(shape)).build().output(0);
    }

    Output<?> constant(String name, INDArray value) {
        try (Tensor t = TfTensors.toTensorflow(value, name)) {
            return graph.opBuilder("Const", name, graph.baseScope()).setAttr("value", t)
                    .setAttr("dtype", t.dataType()).build().output(0);
        }
    }

    GraphOperationBuilder op(String type, String name, Output<?>... inputs) {
        GraphOperationBuilder b = graph.opBuilder(type, name, graph.baseScope());
        for (Output<?> in : inputs) b.addInput(in);
        return b;
    }

    /** An op whose first input is a list (Pack, ConcatV2, ...), then single inputs. */
    GraphOperationBuilder listOp(String type, String name, Output<?>[] list, Output<?>... inputs) {
        GraphOperationBuilder b = graph.opBuilder(type, name, graph.baseScope()).addInputList(list);
        for (Output<?> in : inputs) b.addInput(in);
        return b;
    }

    /** TensorFlow's values of the fetched tensors for these feeds (by placeholder name). */
    Map<String, INDArray> run(Map<String, INDArray> feeds, List<String> fetches) {
        try (Session s = new Session(graph)) {
            Session.Runner r = s.runner();
            List<Tensor> opened = new ArrayList<>();
            for (Map.Entry<String, INDArray> f : feeds.entrySet()) {
                Tensor t = TfTensors.toTensorflow(f.getValue(), f.getKey());
                opened.add(t);
                r.feed(f.getKey(), t);
            }
            fetches.forEach(r::fetch);
            Map<String, INDArray> out = new LinkedHashMap<>();
            try (Result res = r.run()) {
                for (int i = 0; i < fetches.size(); i++) out.put(fetches.get(i), TfTensors.toNd4j(res.get(i), fetches.get(i)));
            } finally {
                opened.forEach(Tensor::close);
            }
            return out;
        }
    }

    Path save(Path dir, String file) throws IOException {
        Path p = dir.resolve(file);
        Files.write(p, graph.toGraphDef().toByteArray());
        return p;
    }

    @Override
    public void close() {
        graph.close();
    }
}
