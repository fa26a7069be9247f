package dev.graft;

import dev.graft.onnx.OnnxImporter;
import java.nio.file.Files;
import java.nio.file.Path;

/** Entry point of the Java API: {@code Graft.load(path)} imports a model from a file graft understands. */
public final class Graft {

    /** The version written into exported models and printed by the CLI. */
    public static final String VERSION = "0.1.0";

    private Graft() {
    }

    /** Imports an ONNX model ({@code .onnx}) into SameDiff. */
    public static GraftModel load(Path path) {
        if (!Files.exists(path)) {
            throw new GraftException(path + ": no such file or directory");
        }
        if (Files.isDirectory(path)) {
            throw new GraftException(path + ": is a directory; graft imports .onnx files "
                    + "(TensorFlow SavedModel directories are not supported yet)");
        }
        return new OnnxImporter().importModel(path);
    }
}
