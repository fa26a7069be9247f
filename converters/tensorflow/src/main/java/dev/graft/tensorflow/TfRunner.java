package dev.graft.tensorflow;

import dev.graft.GraftException;
import dev.graft.LoadOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.SignatureDef;

/**
 * Runs a TensorFlow model in TensorFlow itself (TensorFlow Java), under the input and output names graft's
 * import gives it (signature keys for a SavedModel, node names for a GraphDef), so that `graft verify`
 * and the tests compare an import or an export with the source engine.
 */
public final class TfRunner implements AutoCloseable {
    private final SavedModelBundle bundle;
    private final Graph graph;
    private final Session session;
    private final Map<String, String> inputs = new LinkedHashMap<>();
    private final Map<String, String> outputs = new LinkedHashMap<>();

    private TfRunner(SavedModelBundle bundle, Graph graph, Session session) {
        this.bundle = bundle;
        this.graph = graph;
        this.session = session;
    }

    /** Opens the model with the signature/outputs of {@code options}, as {@link TensorflowImporter} reads them. */
    public static TfRunner open(Path path, LoadOptions options) {
        TfModelFile file = TfModelFile.read(path, options.tags());
        String where = file.path().toString();
        if (file.savedModel()) {
            SavedModelBundle b;
            try {
                b = SavedModelBundle.loader(file.path().toString()).withTags(file.tags().toArray(new String[0])).load();
            } catch (RuntimeException e) {
                throw new GraftException(where + ": TensorFlow cannot load the SavedModel: " + e.getMessage(), e);
            }
            TfRunner r = new TfRunner(b, b.graph(), b.session());
            Map<String, SignatureDef> sigs = file.signatures();
            String key = options.signature() != null ? options.signature() : sigs.containsKey("serving_default") ? "serving_default"
                    : sigs.keySet().iterator().next();
            SignatureDef sig = sigs.get(key);
            if (sig == null) {
                r.close();
                throw new GraftException(where + ": no signature '" + key + "'; the SavedModel has " + String.join(", ", sigs.keySet()));
            }
            new TreeMap<>(sig.getInputsMap()).forEach((k, v) -> r.inputs.put(k, v.getName()));
            new TreeMap<>(sig.getOutputsMap()).forEach((k, v) -> r.outputs.put(k, v.getName()));
            r.chooseOutputs(options.outputs());
            return r;
        }
        Graph g = new Graph();
        try {
            g.importGraphDef(file.graph());
        } catch (IllegalArgumentException | org.tensorflow.exceptions.TensorFlowException e) {
            g.close();
            throw new GraftException(where + ": TensorFlow rejects the graph: " + e.getMessage(), e);
        }
        TfRunner r = new TfRunner(null, g, new Session(g));
        // Inputs and outputs exactly as the importer chooses them.
        var model = new TensorflowImporter().importModel(path, options);
        model.inputNames().forEach(n -> r.inputs.put(n, n + ":0"));
        for (String o : model.outputNames()) r.outputs.put(o, o.contains(":") ? o : o + ":0");
        return r;
    }

    private void chooseOutputs(List<String> names) {
        if (names.isEmpty()) return;
        Map<String, String> chosen = new LinkedHashMap<>();
        for (String n : names) {
            String tensor = outputs.getOrDefault(n, n.contains(":") ? n : n + ":0");
            chosen.put(n.endsWith(":0") ? n.substring(0, n.length() - 2) : n, tensor);
        }
        outputs.clear();
        outputs.putAll(chosen);
    }

    public List<String> inputNames() {
        return new ArrayList<>(inputs.keySet());
    }

    public List<String> outputNames() {
        return new ArrayList<>(outputs.keySet());
    }

    /** TensorFlow's values of the named outputs (default: all) for feeds by input name. */
    public Map<String, INDArray> run(Map<String, INDArray> feeds, List<String> names) {
        List<String> wanted = names.isEmpty() ? outputNames() : names;
        Session.Runner runner = session.runner();
        List<Tensor> opened = new ArrayList<>();
        try {
            for (Map.Entry<String, String> in : inputs.entrySet()) {
                INDArray v = feeds.get(in.getKey());
                if (v == null) throw new GraftException("TensorFlow run: no value for input '" + in.getKey() + "'");
                Tensor t = TfTensors.toTensorflow(v, in.getKey());
                opened.add(t);
                runner.feed(in.getValue(), t);
            }
            for (String w : wanted) {
                String tensor = outputs.get(w);
                if (tensor == null) throw new GraftException("TensorFlow run: no output '" + w + "' (outputs: " + outputNames() + ")");
                runner.fetch(tensor);
            }
            Map<String, INDArray> out = new LinkedHashMap<>();
            try (Result r = runner.run()) {
                for (int i = 0; i < wanted.size(); i++) out.put(wanted.get(i), TfTensors.toNd4j(r.get(i), wanted.get(i)));
            }
            return out;
        } catch (org.tensorflow.exceptions.TensorFlowException e) {
            throw new GraftException("TensorFlow failed to run the model: " + e.getMessage(), e);
        } finally {
            opened.forEach(Tensor::close);
        }
    }

    @Override
    public void close() {
        if (bundle != null) {
            bundle.close();
        } else {
            session.close();
            graph.close();
        }
    }
}
