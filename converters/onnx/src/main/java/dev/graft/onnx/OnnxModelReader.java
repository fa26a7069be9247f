package dev.graft.onnx;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.graft.GraftException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reads an ONNX file: parses the protobuf, checks that it is a model at all, and loads tensors, including
 * external data, which is resolved relative to the model's folder and must stay inside it.
 */
public final class OnnxModelReader {

    private final Path file;
    private final Path folder;

    private OnnxModelReader(Path file) {
        this.file = file;
        this.folder = file.toAbsolutePath().getParent();
    }

    public static OnnxModelReader of(Path file) {
        return new OnnxModelReader(file);
    }

    public Path file() {
        return file;
    }

    public ModelProto read() {
        if (!Files.isRegularFile(file)) {
            throw new GraftException(file + (Files.isDirectory(file) ? ": is a directory, not an .onnx file" : ": no such file"));
        }
        ModelProto model;
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setSizeLimit(Integer.MAX_VALUE);
            coded.setRecursionLimit(200);
            model = ModelProto.parseFrom(coded);
        } catch (InvalidProtocolBufferException e) {
            throw new GraftException(file + ": not a valid ONNX model (protobuf parse failed: " + e.getMessage()
                    + "); the file may be truncated or of another format");
        } catch (IOException e) {
            throw new GraftException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (!model.hasGraph() || model.getIrVersion() <= 0) {
            throw new GraftException(file + ": not an ONNX model (no " + (model.hasGraph() ? "ir_version" : "graph")
                    + " field); is it another format?");
        }
        return model;
    }

    /** Reads a tensor of this model, resolving external data. {@code role} describes it in errors. */
    public INDArray tensor(TensorProto t, String role) {
        String where = file + ": " + role;
        ByteString raw = null;
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            raw = externalData(t, where);
        }
        return OnnxTensors.toArray(t, raw, where);
    }

    private ByteString externalData(TensorProto t, String where) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = parseLong(e.getValue(), "offset", where);
                case "length" -> length = parseLong(e.getValue(), "length", where);
                default -> { /* checksum and others: informational */ }
            }
        }
        if (location == null || location.isEmpty()) {
            throw new GraftException(where + ": external data without a 'location'");
        }
        Path candidate = Path.of(location);
        if (candidate.isAbsolute()) {
            throw new GraftException(where + ": external data location '" + location
                    + "' is an absolute path; ONNX requires a path relative to the model's folder");
        }
        Path resolved = folder.resolve(candidate).normalize();
        if (!resolved.startsWith(folder.normalize())) {
            throw new GraftException(where + ": external data location '" + location
                    + "' escapes the model's folder " + folder + "; refused");
        }
        if (!Files.isRegularFile(resolved)) {
            throw new GraftException(where + ": external data file '" + location + "' not found next to the model");
        }
        try {
            Path real = resolved.toRealPath();
            if (!real.startsWith(folder.toRealPath())) {
                throw new GraftException(where + ": external data location '" + location
                        + "' links outside the model's folder; refused");
            }
            try (FileChannel ch = FileChannel.open(real, StandardOpenOption.READ)) {
                long size = ch.size();
                if (offset < 0 || offset > size) {
                    throw new GraftException(where + ": external data offset " + offset + " is outside '" + location
                            + "' (" + size + " bytes)");
                }
                long len = length < 0 ? size - offset : length;
                if (len > size - offset) {
                    throw new GraftException(where + ": external data range [" + offset + ", " + (offset + len)
                            + ") exceeds '" + location + "' (" + size + " bytes)");
                }
                if (len > Integer.MAX_VALUE) {
                    throw new GraftException(where + ": external tensor of " + len + " bytes is over 2 GB, not supported");
                }
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) len);
                ch.position(offset);
                while (buf.hasRemaining() && ch.read(buf) > 0) {
                    // read fully
                }
                buf.flip();
                return ByteString.copyFrom(buf);
            }
        } catch (IOException e) {
            throw new GraftException(where + ": cannot read external data '" + location + "' (" + e.getMessage() + ")", e);
        }
    }

    private static long parseLong(String s, String key, String where) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new GraftException(where + ": external data '" + key + "' is not a number: '" + s + "'");
        }
    }

    /** Opset of the default domain, as the model declares it. */
    public static int defaultOpset(ModelProto model) {
        int opset = -1;
        for (var id : model.getOpsetImportList()) {
            if (ConverterRegistry.normalizeDomain(id.getDomain()).isEmpty()) {
                opset = (int) id.getVersion();
            }
        }
        // IR version 3 models without opset_import mean opset 1; treat them as 1.
        return opset < 0 ? 1 : opset;
    }

    public static int opsetFor(ModelProto model, String domain) {
        String d = ConverterRegistry.normalizeDomain(domain);
        for (var id : model.getOpsetImportList()) {
            if (ConverterRegistry.normalizeDomain(id.getDomain()).equals(d)) {
                return (int) id.getVersion();
            }
        }
        return d.isEmpty() ? 1 : -1;
    }

    static String nodeLabel(NodeProto n, int index) {
        return n.getName().isEmpty() ? "#" + index : n.getName();
    }
}
