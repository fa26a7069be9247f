package dev.graft.onnx.ops;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.graft.GraftModel;
import dev.graft.onnx.OnnxImporter;
import dev.graft.onnx.OnnxTensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Builds and imports one-node ONNX models for cases the backend suite does not cover (run-time axes,
 * legacy broadcasting, gradients). Inputs are declared with a shape where -1 marks a dynamic dimension.
 */
final class SingleNodeModels {

    private final NodeProto.Builder node;
    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("g");
    private final int opset;

    SingleNodeModels(String opType, int opset) {
        this.node = NodeProto.newBuilder().setOpType(opType).setName("n");
        this.opset = opset;
    }

    SingleNodeModels input(String name, DataType type, long... shape) {
        node.addInput(name);
        graph.addInput(valueInfo(name, type, shape));
        return this;
    }

    /** An initializer: imported as a trainable variable when floating point, else as a constant. */
    SingleNodeModels initializer(String name, INDArray value) {
        node.addInput(name);
        graph.addInitializer(value.isEmpty()
                ? TensorProto.newBuilder().setName(name).addDims(0).setDataType(OnnxTensors.toOnnx(value.dataType())).build()
                : OnnxTensors.toProto(name, value));
        return this;
    }

    SingleNodeModels output(String name, DataType type, long... shape) {
        node.addOutput(name);
        graph.addOutput(valueInfo(name, type, shape));
        return this;
    }

    SingleNodeModels attr(String name, long value) {
        node.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value));
        return this;
    }

    SingleNodeModels ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) a.addInts(v);
        node.addAttribute(a);
        return this;
    }

    GraftModel importModel(Path dir) {
        ModelProto model = ModelProto.newBuilder()
                .setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setGraph(graph.clone().addNode(node))
                .build();
        Path file = dir.resolve(node.getOpType() + "_" + opset + ".onnx");
        try {
            Files.write(file, model.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new OnnxImporter().importModel(file);
    }

    private static ValueInfoProto valueInfo(String name, DataType type, long[] shape) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : shape) {
            s.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam(name + "_d" + s.getDimCount())
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.toOnnx(type)).setShape(s))).build();
    }
}
