package dev.graft.onnx;

/**
 * One op family (convolutions, pooling, elementwise math, ...): registers the import (and, later, export)
 * halves of each op it owns, one entry per op version where the semantics changed.
 */
public interface OnnxOpFamily {
    void register(ConverterRegistry.Builder registry);
}
