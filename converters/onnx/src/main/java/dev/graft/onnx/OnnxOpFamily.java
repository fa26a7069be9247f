package dev.graft.onnx;

/**
 * One op family (convolutions, pooling, elementwise math, ...): registers the import half of
 * each ONNX op it owns (one entry per op version where the semantics changed) and the export half of each
 * SameDiff op type its importers create, so that both directions of an op live side by side.
 */
public interface OnnxOpFamily {
    void register(ConverterRegistry.Builder registry);
}
