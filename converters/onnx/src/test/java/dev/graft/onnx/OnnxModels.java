package dev.graft.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds small ONNX models with the protobuf builders, as ONNX Runtime's Java tests do. */
public final class OnnxModels {

    private OnnxModels() {
    }

    public static ValueInfoProto floatInput(String name, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            if (d instanceof String s) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(s));
            else shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    public static NodeProto node(String name, String op, String[] inputs, String[] outputs) {
        NodeProto.Builder b = NodeProto.newBuilder().setName(name).setOpType(op);
        for (String i : inputs) b.addInput(i);
        for (String o : outputs) b.addOutput(o);
        return b.build();
    }

    public static TensorProto floats(String name, long[] dims, float... values) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
        for (long d : dims) b.addDims(d);
        for (float v : values) b.addFloatData(v);
        return b.build();
    }

    public static ModelProto model(GraphProto graph, int opset) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("graft-tests")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setGraph(graph).build();
    }

    /** y = x + W, with x [batch, 3] and W an initializer of 3 floats. */
    public static GraphProto.Builder addGraph(TensorProto weight) {
        return GraphProto.newBuilder().setName("add")
                .addInput(floatInput("x", "batch", 3))
                .addInitializer(weight)
                .addNode(node("add_w", "Add", new String[]{"x", weight.getName()}, new String[]{"y"}))
                .addOutput(floatInput("y", "batch", 3));
    }

    public static Path write(ModelProto model, Path file) throws IOException {
        Files.write(file, model.toByteArray());
        return file;
    }
}
