package dev.graft;

import dev.graft.onnx.OnnxImporter;
import dev.graft.tensorflow.TensorflowImporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Entry point of the Java API: {@code Graft.load(path)} imports a model from a file graft understands: an
 * ONNX model ({@code .onnx}), a TensorFlow SavedModel directory, or a frozen TensorFlow GraphDef
 * ({@code .pb}, {@code .pbtxt}).
 */
public final class Graft {

    /** The version written into exported models and printed by the CLI. */
    public static final String VERSION = "0.1.0";

    private Graft() {
    }

    public static GraftModel load(Path path) {
        return load(path, LoadOptions.defaults());
    }

    /** Imports a model with a chosen signature and/or outputs (see {@link LoadOptions}). */
    public static GraftModel load(Path path, LoadOptions options) {
        if (!Files.exists(path)) {
            throw new GraftException(path + ": no such file or directory");
        }
        if (isTensorflow(path)) {
            return new TensorflowImporter().importModel(path, options);
        }
        if (options.signature() != null) {
            throw new GraftException(path + ": --signature applies to TensorFlow SavedModels, not to ONNX files");
        }
        GraftModel model = new OnnxImporter().importModel(path);
        return options.outputs().isEmpty() ? model : model.withOutputs(options.outputs());
    }

    /** SavedModel directories and .pb / .pbtxt files are TensorFlow's; everything else is read as ONNX. */
    public static boolean isTensorflow(Path path) {
        if (Files.isDirectory(path)) return true;
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".pb") || name.endsWith(".pbtxt");
    }
}
