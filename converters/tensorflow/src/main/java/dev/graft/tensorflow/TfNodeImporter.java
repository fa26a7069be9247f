package dev.graft.tensorflow;

/** Turns one TensorFlow node into SameDiff ops through the context. */
@FunctionalInterface
public interface TfNodeImporter {
    void importNode(TfNode node, TfImportContext ctx);
}
