package dev.graft.onnx.export;

/** One clean-up step over the exported graph; the exporter runs its passes in an explicit order. */
interface ExportPass {
    /** Rewrites the graph in place; returns true when it changed anything. */
    boolean run(ExportGraph graph);
}
