package dev.graft.tensorflow;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import dev.graft.GraftException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;

/**
 * A TensorFlow model on disk: a frozen GraphDef ({@code .pb} binary or {@code .pbtxt} text) or a SavedModel
 * directory ({@code saved_model.pb} or {@code saved_model.pbtxt} plus {@code variables/}). Reading checks
 * the files before TensorFlow's native code sees them, so bad input is a {@link GraftException} that names
 * the file, never a native crash.
 */
record TfModelFile(Path path, boolean savedModel, GraphDef graph, MetaGraphDef metaGraph, List<String> tags) {

    static final String SERVE = "serve";

    static boolean isTensorflowPath(Path p) {
        if (Files.isDirectory(p)) return true;
        String n = p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return n.endsWith(".pb") || n.endsWith(".pbtxt");
    }

    static TfModelFile read(Path path, List<String> requestedTags) {
        if (!Files.exists(path)) throw new GraftException(path + ": no such file or directory");
        String fileName = path.getFileName() == null ? "" : path.getFileName().toString();
        if (!Files.isDirectory(path) && (fileName.equals("saved_model.pb") || fileName.equals("saved_model.pbtxt"))) {
            path = path.toAbsolutePath().getParent(); // the file of a SavedModel: read the whole directory
        }
        return Files.isDirectory(path) ? readSavedModel(path, requestedTags) : readGraphDef(path);
    }

    private static TfModelFile readGraphDef(Path file) {
        byte[] bytes = readAll(file);
        GraphDef g;
        boolean text = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".pbtxt");
        try {
            g = text ? parseText(file, bytes) : GraphDef.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new GraftException(file + ": not a TensorFlow GraphDef, or the file is truncated or corrupt ("
                    + e.getMessage() + ")", e);
        }
        if (g.getNodeCount() == 0) throw new GraftException(file + ": the GraphDef holds no nodes");
        for (var n : g.getNodeList()) {
            if (n.getName().isEmpty() || n.getOp().isEmpty()) {
                throw new GraftException(file + ": not a TensorFlow GraphDef (a node without a name or op); "
                        + "is it an ONNX model or a SavedModel's saved_model.pb?");
            }
        }
        return new TfModelFile(file, false, g, null, List.of());
    }

    private static GraphDef parseText(Path file, byte[] bytes) {
        GraphDef.Builder b = GraphDef.newBuilder();
        try {
            TextFormat.merge(new String(bytes, StandardCharsets.UTF_8), b);
        } catch (TextFormat.ParseException e) {
            throw new GraftException(file + ": not a text GraphDef (" + e.getMessage() + ")", e);
        }
        return b.build();
    }

    private static TfModelFile readSavedModel(Path dir, List<String> requestedTags) {
        Path pb = dir.resolve("saved_model.pb");
        Path pbtxt = dir.resolve("saved_model.pbtxt");
        SavedModel sm;
        if (Files.isRegularFile(pb)) {
            try {
                sm = SavedModel.parseFrom(readAll(pb));
            } catch (InvalidProtocolBufferException e) {
                throw new GraftException(pb + ": not a SavedModel, or the file is truncated or corrupt (" + e.getMessage() + ")", e);
            }
        } else if (Files.isRegularFile(pbtxt)) {
            SavedModel.Builder b = SavedModel.newBuilder();
            try {
                TextFormat.merge(new String(readAll(pbtxt), StandardCharsets.UTF_8), b);
            } catch (TextFormat.ParseException e) {
                throw new GraftException(pbtxt + ": not a text SavedModel (" + e.getMessage() + ")", e);
            }
            sm = b.build();
        } else {
            throw new GraftException(dir + ": not a TensorFlow SavedModel directory (it holds neither saved_model.pb "
                    + "nor saved_model.pbtxt); graft reads SavedModel directories, frozen GraphDefs (.pb, .pbtxt) and .onnx files");
        }
        if (sm.getMetaGraphsCount() == 0) throw new GraftException(dir + ": the SavedModel holds no MetaGraphDef");
        List<String> wanted = requestedTags.isEmpty() ? List.of(SERVE) : requestedTags;
        MetaGraphDef chosen = null;
        List<String> available = new ArrayList<>();
        for (MetaGraphDef m : sm.getMetaGraphsList()) {
            List<String> tags = m.getMetaInfoDef().getTagsList();
            available.add(String.join(",", tags));
            if (tags.containsAll(wanted) && chosen == null) chosen = m;
        }
        if (chosen == null) {
            if (requestedTags.isEmpty() && sm.getMetaGraphsCount() == 1) {
                chosen = sm.getMetaGraphs(0);
            } else {
                throw new GraftException(dir + ": no MetaGraphDef has the tags " + wanted + "; the SavedModel has " + available);
            }
        }
        if (chosen.getGraphDef().getNodeCount() == 0) throw new GraftException(dir + ": the SavedModel's graph holds no nodes");
        return new TfModelFile(dir, true, chosen.getGraphDef(), chosen, List.copyOf(chosen.getMetaInfoDef().getTagsList()));
    }

    /** The signatures a caller can choose, by key (the TF 2.x init-op pseudo-signature left out). */
    Map<String, SignatureDef> signatures() {
        if (metaGraph == null) return Map.of();
        Map<String, SignatureDef> m = new java.util.TreeMap<>(metaGraph.getSignatureDefMap());
        m.remove("__saved_model_init_op");
        return m;
    }

    private static byte[] readAll(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new GraftException(p + ": cannot be read (" + e.getMessage() + ")", e);
        }
    }
}
