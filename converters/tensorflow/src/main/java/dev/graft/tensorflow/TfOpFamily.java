package dev.graft.tensorflow;

/** One family of TensorFlow ops (convolutions, elementwise math, shapes, ...) and their importers. */
public interface TfOpFamily {
    void register(TfConverterRegistry.Builder registry);
}
