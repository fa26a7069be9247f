package dev.graft.onnx;

/** The import half of one op version: turns one ONNX node into SameDiff ops through the context. */
@FunctionalInterface
public interface NodeImporter {
    void importNode(OnnxNode node, ImportContext ctx);
}
