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
 * and imports it. Inputs are graph inputs (given by value, or declared by type and shape where -1 marks a
 * dynamic dimension) unless given as initializers.
 */
final class SingleNodeModel {

    private final NodeProto.Builder node;
    private final int opset;
    private final Map<String, INDArray> inputs = new LinkedHashMap<>();
    private final List<ValueInfoProto> graphInputs = new java.util.ArrayList<>();
    private final List<ValueInfoProto> graphOutputs = new java.util.ArrayList<>();
    private final Map<String, INDArray> initializers = new LinkedHashMap<>();

    SingleNodeModel(String opType, int opset) {
        this.node = NodeProto.newBuilder().setOpType(opType).setName("n0");
        this.opset = opset;
    }

    /** A graph input with the value {@link #run} feeds; its shape is declared static. */
    SingleNodeModel input(String name, INDArray value) {
        node.addInput(name);
        inputs.put(name, value);
        graphInputs.add(valueInfo(name, value.dataType(), value.shape()));
        return this;
    }

    /** A graph input declared by type and shape (-1: a dynamic dimension), fed by the caller. */
    SingleNodeModel input(String name, DataType type, long... shape) {
        node.addInput(name);
        graphInputs.add(valueInfo(name, type, shape));
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

    /** An output of the given type; its shape is left undeclared. */
    SingleNodeModel output(String name, DataType type) {
        node.addOutput(name);
        graphOutputs.add(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(OnnxTensors.toOnnx(type)))).build());
        return this;
    }

    SingleNodeModel output(String name, DataType type, long... shape) {
        node.addOutput(name);
        graphOutputs.add(valueInfo(name, type, shape));
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

    /** An INTS attribute, also when it holds one value. */
    SingleNodeModel ints(String name, long... v) {
        return attr(name, v);
    }

    SingleNodeModel attrFloats(String name, float... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOATS);
        for (float x : v) a.addFloats(x);
        node.addAttribute(a);
        return this;
    }

    GraftModel importModel(Path dir) {
        return new OnnxImporter().importModel(write(dir));
    }

    /** Writes the model to a new file in {@code dir} and returns its path. */
    Path write(Path dir) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("g").addNode(node)
                .addAllInput(graphInputs).addAllOutput(graphOutputs);
        for (Map.Entry<String, INDArray> e : initializers.entrySet()) {
            g.addInitializer(OnnxTensors.toProto(e.getKey(), e.getValue()));
        }
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build();
        Path file = dir.resolve(node.getOpType() + "-" + opset + "-" + System.nanoTime() + ".onnx");
        try {
            Files.write(file, m.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** The graph inputs given by value, by name. */
    Map<String, INDArray> feeds() {
        return inputs;
    }

    /** Imports and runs on the graph inputs given by value; returns the outputs by name. */
    Map<String, INDArray> run(Path dir) {
        return importModel(dir).run(inputs, graphOutputs.stream().map(ValueInfoProto::getName).toList());
    }

    @Override
    public String toString() {
        return node.getOpType() + "-" + opset;
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
