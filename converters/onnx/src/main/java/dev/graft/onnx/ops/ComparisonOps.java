package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.OnnxOpFamily;

/** Placeholder family: its ops are added in following commits. */
public final class ComparisonOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
    }
}
