package dev.graft.onnx.ops;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Builds a one-node ONNX model for op versions and attribute values the backend suite does not cover,
 * and imports it. Inputs are graph inputs unless given as initializers.
 */
final class SingleNodeModel {

    private final NodeProto.Builder node;
    private final int opset;
    private final Map<String, INDArray> inputs = new LinkedHashMap<>();
    private final Map<String, INDArray> initializers = new LinkedHashMap<>();
    private final Map<String, DataType> outputs = new LinkedHashMap<>();

    SingleNodeModel(String opType, int opset) {
        this.node = NodeProto.newBuilder().setOpType(opType).setName("n0");
        this.opset = opset;
    }

    SingleNodeModel input(String name, INDArray value) {
        node.addInput(name);
        inputs.put(name, value);
        return this;
    }

    SingleNodeModel initializer(String name, INDArray value) {
        node.addInput(name);
        initializers.put(name, value);
        return this;
    }

    /** An omitted optional input. */
    SingleNodeModel skipInput() {
        node.addInput("");
        return this;
    }

    SingleNodeModel output(String name) {
        return output(name, DataType.FLOAT);
    }

    SingleNodeModel output(String name, DataType type) {
        node.addOutput(name);
        outputs.put(name, type);
        return this;
    }

    SingleNodeModel attr(String name, long v) {
        node.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v));
        return this;
    }

    SingleNodeModel attr(String name, float v) {
        node.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v));
        return this;
    }

    SingleNodeModel attr(String name, String v) {
        node.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(com.google.protobuf.ByteString.copyFromUtf8(v)));
        return this;
    }

    SingleNodeModel attr(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        node.addAttribute(a);
        return this;
    }

    SingleNodeModel attrFloats(String name, float... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOATS);
        for (float x : v) a.addFloats(x);
        node.addAttribute(a);
        return this;
    }

    GraftModel importModel(Path dir) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("g").addNode(node);
        for (Map.Entry<String, INDArray> e : inputs.entrySet()) {
            g.addInput(valueInfo(e.getKey(), e.getValue()));
        }
        for (Map.Entry<String, INDArray> e : initializers.entrySet()) {
            g.addInitializer(OnnxTensors.toProto(e.getKey(), e.getValue()));
        }
        for (Map.Entry<String, DataType> o : outputs.entrySet()) {
            g.addOutput(ValueInfoProto.newBuilder().setName(o.getKey()).setType(TypeProto.newBuilder().setTensorType(
                    TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.toOnnx(o.getValue())))));
        }
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build();
        Path file = dir.resolve(node.getOpType() + "-" + opset + "-" + System.nanoTime() + ".onnx");
        try {
            Files.write(file, m.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new OnnxImporter().importModel(file);
    }

    /** Imports and runs on the graph inputs; returns the outputs by name. */
    Map<String, INDArray> run(Path dir) {
        return importModel(dir).run(inputs, List.copyOf(outputs.keySet()));
    }

    @Override
    public String toString() {
        return node.getOpType() + "-" + opset;
    }

    private static ValueInfoProto valueInfo(String name, INDArray v) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : v.shape()) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.toOnnx(v.dataType())).setShape(shape))).build();
    }
}
