package dev.graft.onnx;

import org.nd4j.autodiff.samediff.internal.SameDiffOp;

/**
 * The export half for one SameDiff op type: writes ONNX nodes computing the op's outputs from its inputs,
 * through the context, which names the outputs after the SameDiff variables.
 */
@FunctionalInterface
public interface OpExporter {
    void exportOp(SameDiffOp op, ExportContext ctx);
}
