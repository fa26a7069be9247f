package dev.graft.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.graft.GraftException;
import dev.graft.surgery.HeadSpec;
import dev.graft.train.Freeze;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A fine-tuning job as written in a YAML file (the format is public: see the README). Relative paths are
 * relative to the job file's folder. Every key is checked: an unknown key or a wrong value is an error
 * naming the key, e.g. {@code job.yaml: heads[1].output: 'softmx' is not one of softmax, sigmoid, linear}.
 */
public record JobFile(Path file, Path source, List<String> cut, Freeze freeze, List<HeadSpec> heads, Data data,
                      Train train, Export export, dev.graft.LoadOptions sourceOptions) {

    /** Where the data is: a dataset folder of .npy files, image folders, or a CSV file. */
    public record Data(Path train, Path validation, double split, String format, JsonNode images, JsonNode csv) {
    }

    /** The train: block, as given (defaults filled in). */
    public record Train(int epochs, int batchSize, String optimizer, double learningRate, double trunkLearningRate,
                        double momentum, double weightDecay, double clipNorm, String schedule, int stepEpochs,
                        double stepGamma, long seed, String earlyStopMetric, int patience, String featureCache,
                        String executor) {
    }

    /** The export: block. */
    public record Export(Path onnx, boolean verify, int opset) {
    }

    private static final Set<String> TOP = Set.of("source", "signature", "outputs", "cut", "freeze", "bn", "heads", "data",
            "train", "export");
    private static final Set<String> HEAD = Set.of("name", "from", "layers", "activation", "dropout", "output", "size",
            "loss_weight", "seed");
    private static final Set<String> DATA = Set.of("train", "validation", "split", "format", "images", "csv");
    private static final Set<String> TRAIN = Set.of("epochs", "batch_size", "optimizer", "learning_rate",
            "trunk_learning_rate", "momentum", "weight_decay", "clip_norm", "schedule", "step_epochs", "step_gamma", "seed",
            "early_stopping", "feature_cache", "executor");
    private static final Set<String> EARLY = Set.of("metric", "patience");
    private static final Set<String> EXPORT = Set.of("onnx", "verify", "opset");

    public static JobFile read(Path file) {
        if (!Files.isRegularFile(file)) throw new GraftException(file + ": no such job file");
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (IOException e) {
            throw new GraftException(file + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (root == null || !root.isObject()) throw new GraftException(file + ": a job file is a YAML mapping (source:, heads:, data:, ...)");
        Path base = file.toAbsolutePath().getParent();
        String f = file.getFileName().toString();
        keys(root, TOP, f, "");

        Path source = path(base, text(root, "source", f, "", null, true));
        // A TensorFlow source's signature and outputs (the same as the CLI's --signature and --output).
        String signature = text(root, "signature", f, "", null, false);
        List<String> sourceOutputs = new ArrayList<>();
        JsonNode so = root.get("outputs");
        if (so != null && !so.isNull()) {
            if (so.isArray()) so.forEach(n -> sourceOutputs.add(n.asText()));
            else sourceOutputs.add(so.asText());
        }
        List<String> cut = new ArrayList<>();
        JsonNode c = root.get("cut");
        if (c == null || c.isNull()) {
            cut.add("auto");
        } else if (c.isArray()) {
            c.forEach(n -> cut.add(n.asText()));
        } else {
            cut.add(c.asText());
        }
        Freeze freeze;
        try {
            freeze = Freeze.parse(text(root, "freeze", f, "", "all", false));
            String bn = text(root, "bn", f, "", "frozen", false);
            freeze = freeze.withBatchNorm(Freeze.parseBatchNorm(bn));
        } catch (GraftException e) {
            throw new GraftException(f + ": " + e.getMessage(), e);
        }

        JsonNode hs = root.get("heads");
        if (hs == null || !hs.isArray() || hs.isEmpty()) throw new GraftException(f + ": heads: give a list of at least one head");
        List<HeadSpec> heads = new ArrayList<>();
        for (int i = 0; i < hs.size(); i++) {
            JsonNode h = hs.get(i);
            String at = "heads[" + i + "].";
            if (!h.isObject()) throw new GraftException(f + ": heads[" + i + "] must be a mapping (name:, output:, size:, ...)");
            keys(h, HEAD, f, at);
            String from = text(h, "from", f, at, null, false);
            List<Integer> layers = new ArrayList<>();
            JsonNode l = h.get("layers");
            if (l != null && !l.isNull()) {
                if (!l.isArray()) throw new GraftException(f + ": " + at + "layers: a list of sizes, e.g. [64]");
                for (JsonNode u : l) {
                    if (!u.canConvertToInt()) throw new GraftException(f + ": " + at + "layers: '" + u.asText() + "' is not a size");
                    layers.add(u.asInt());
                }
            }
            try {
                heads.add(new HeadSpec(text(h, "name", f, at, null, true), from == null || from.equals("auto") ? null : from, layers,
                        text(h, "activation", f, at, "relu", false), number(h, "dropout", f, at, 0),
                        HeadSpec.OutputKind.parse(text(h, "output", f, at, null, true), f + ": " + at + "output"),
                        (int) number(h, "size", f, at, Double.NaN), number(h, "loss_weight", f, at, 1.0),
                        (long) number(h, "seed", f, at, 7 + i)));
            } catch (GraftException e) {
                throw e.getMessage().startsWith(f) ? e : new GraftException(f + ": " + at.substring(0, at.length() - 1) + ": " + e.getMessage(), e);
            }
        }
        for (int i = 0; i < heads.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (heads.get(i).name().equals(heads.get(j).name())) {
                    throw new GraftException(f + ": heads[" + i + "].name: '" + heads.get(i).name() + "' is also heads[" + j + "]");
                }
            }
        }

        JsonNode d = root.get("data");
        if (d == null || !d.isObject()) throw new GraftException(f + ": data: give at least data.train (a dataset folder)");
        keys(d, DATA, f, "data.");
        String val = text(d, "validation", f, "data.", null, false);
        double split = number(d, "split", f, "data.", 0);
        if (val != null && split > 0) throw new GraftException(f + ": data: give validation or split, not both");
        Data data = new Data(path(base, text(d, "train", f, "data.", null, true)), val == null ? null : path(base, val), split,
                text(d, "format", f, "data.", "auto", false), d.get("images"), d.get("csv"));

        JsonNode t = root.get("train");
        if (t == null) t = new ObjectMapper().createObjectNode();
        keys(t, TRAIN, f, "train.");
        JsonNode es = t.get("early_stopping");
        String metric = null;
        int patience = 0;
        if (es != null && !es.isNull()) {
            keys(es, EARLY, f, "train.early_stopping.");
            metric = text(es, "metric", f, "train.early_stopping.", "val_loss", false);
            patience = (int) number(es, "patience", f, "train.early_stopping.", 3);
        }
        Train train = new Train((int) number(t, "epochs", f, "train.", 5), (int) number(t, "batch_size", f, "train.", 32),
                text(t, "optimizer", f, "train.", "adam", false), number(t, "learning_rate", f, "train.", 1e-3),
                number(t, "trunk_learning_rate", f, "train.", Double.NaN), number(t, "momentum", f, "train.", 0.9),
                number(t, "weight_decay", f, "train.", 0), number(t, "clip_norm", f, "train.", 0),
                text(t, "schedule", f, "train.", "none", false), (int) number(t, "step_epochs", f, "train.", 1),
                number(t, "step_gamma", f, "train.", 0.5), (long) number(t, "seed", f, "train.", 7), metric, patience,
                text(t, "feature_cache", f, "train.", "auto", false), oneOf(text(t, "executor", f, "train.", "fixed", false), dev.graft.train.TrainSettings.EXECUTORS,
                        f + ": train.executor"));

        JsonNode e = root.get("export");
        Export export;
        if (e == null || e.isNull()) {
            export = new Export(null, true, 17);
        } else {
            keys(e, EXPORT, f, "export.");
            String onnx = text(e, "onnx", f, "export.", null, false);
            JsonNode v = e.get("verify");
            export = new Export(onnx == null ? null : path(base, onnx), v == null || v.asBoolean(true),
                    (int) number(e, "opset", f, "export.", 17));
        }
        return new JobFile(file, source, cut, freeze, heads, data, train, export,
                new dev.graft.LoadOptions(signature, sourceOutputs, List.of()));
    }

    /** The job with the source's signature and/or outputs replaced (the CLI's --signature and --output win). */
    public JobFile withSourceOptions(String signature, List<String> outputs) {
        dev.graft.LoadOptions o = sourceOptions;
        if (signature != null) o = o.withSignature(signature);
        if (outputs != null && !outputs.isEmpty()) o = o.withOutputs(outputs);
        return new JobFile(file, source, cut, freeze, heads, data, train, export, o);
    }

    private static void keys(JsonNode node, Set<String> allowed, String file, String at) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw new GraftException(file + ": unknown key " + at + k + " (allowed here: " + new java.util.TreeSet<>(allowed) + ")");
            }
        }
    }

    private static String oneOf(String value, java.util.List<String> allowed, String where) {
        if (!allowed.contains(value.toLowerCase(java.util.Locale.ROOT))) {
            throw new GraftException(where + ": '" + value + "' is not one of " + String.join(", ", allowed));
        }
        return value;
    }

    private static String text(JsonNode node, String key, String file, String at, String dflt, boolean required) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            if (required) throw new GraftException(file + ": " + at + key + " is required");
            return dflt;
        }
        if (!v.isValueNode()) throw new GraftException(file + ": " + at + key + " must be a single value");
        return v.asText();
    }

    private static double number(JsonNode node, String key, String file, String at, double dflt) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            if (Double.isNaN(dflt) && !key.endsWith("learning_rate")) throw new GraftException(file + ": " + at + key + " is required");
            return dflt;
        }
        if (!v.isNumber()) {
            try {
                return Double.parseDouble(v.asText());
            } catch (NumberFormatException e) {
                throw new GraftException(file + ": " + at + key + ": '" + v.asText() + "' is not a number");
            }
        }
        return v.asDouble();
    }

    private static Path path(Path base, String p) {
        Path q = Path.of(p);
        return q.isAbsolute() ? q : base.resolve(q).normalize();
    }
}
