package dev.graft;

import java.util.List;

/**
 * How to read a model: which SavedModel signature (null: "serving_default", or the only one), which
 * tensors are the outputs (empty: the signature's outputs, an ONNX model's outputs, or a frozen GraphDef's
 * sinks; names may be signature keys or tensor names, "probabilities" or "probabilities:0"), and which
 * SavedModel tag set (empty: "serve").
 */
public record LoadOptions(String signature, List<String> outputs, List<String> tags) {
    public LoadOptions {
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
        tags = tags == null ? List.of() : List.copyOf(tags);
    }

    public static LoadOptions defaults() {
        return new LoadOptions(null, List.of(), List.of());
    }

    public LoadOptions withOutputs(List<String> names) {
        return new LoadOptions(signature, names, tags);
    }

    public LoadOptions withSignature(String name) {
        return new LoadOptions(name, outputs, tags);
    }
}
