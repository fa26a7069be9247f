package dev.graft.onnx.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.graft.GraftException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Runs an ONNX file in ONNX Runtime with ND4J arrays in and out. Owns a session: close it. */
public final class OrtRunner implements AutoCloseable {

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final Path file;

    public OrtRunner(Path file) {
        this(file, false);
    }

    public OrtRunner(Path file, boolean disableOptimizations) {
        this.file = file;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            if (disableOptimizations) {
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            }
            this.session = env.createSession(file.toString(), options);
        } catch (OrtException e) {
            throw new GraftException(file + ": ONNX Runtime cannot load the model: " + e.getMessage(), e);
        }
    }

    /** A model held in memory (an export being checked); {@code label} names it in errors. */
    public OrtRunner(byte[] model, String label) {
        this.file = Path.of(label);
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            this.session = env.createSession(model, options);
        } catch (OrtException e) {
            throw new GraftException(label + ": ONNX Runtime cannot load the model: " + e.getMessage(), e);
        }
    }

    /**
     * A session on a copy of the model that also outputs the named intermediate values (node outputs), so
     * that they can be compared one by one; names that are not node outputs are ignored.
     */
    public static OrtRunner exposing(Path file, java.util.Collection<String> values) {
        ai.onnx.proto.OnnxMl.ModelProto model = dev.graft.onnx.OnnxModelReader.of(file).read();
        ai.onnx.proto.OnnxMl.GraphProto.Builder g = model.getGraph().toBuilder();
        java.util.Set<String> present = new java.util.HashSet<>();
        g.getOutputList().forEach(o -> present.add(o.getName()));
        java.util.Set<String> produced = new java.util.HashSet<>();
        g.getNodeList().forEach(n -> produced.addAll(n.getOutputList()));
        for (String v : values) {
            if (produced.contains(v) && present.add(v)) {
                g.addOutput(ai.onnx.proto.OnnxMl.ValueInfoProto.newBuilder().setName(v));
            }
        }
        return new OrtRunner(model.toBuilder().setGraph(g).build().toByteArray(), file.toString());
    }

    /** Inputs as ONNX Runtime reports them: name, element type and shape (-1 for dynamic). */
    public List<dev.graft.TensorInfo> inputInfos() {
        try {
            List<dev.graft.TensorInfo> infos = new ArrayList<>();
            for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
                if (e.getValue().getInfo() instanceof TensorInfo t) {
                    infos.add(new dev.graft.TensorInfo(e.getKey(), toNd4j(t.type), t.getShape(), null));
                }
            }
            return infos;
        } catch (OrtException e) {
            throw new GraftException(file + ": " + e.getMessage(), e);
        }
    }

    /** Outputs whose element type graft can read back (float, double, int64, int32, bool, uint8, int8). */
    public List<String> readableOutputs() {
        try {
            List<String> names = new ArrayList<>();
            for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
                if (e.getValue().getInfo() instanceof TensorInfo t && toNd4j(t.type) != null) names.add(e.getKey());
            }
            return names;
        } catch (OrtException e) {
            throw new GraftException(file + ": " + e.getMessage(), e);
        }
    }

    private static DataType toNd4j(ai.onnxruntime.OnnxJavaType t) {
        return switch (t) {
            case FLOAT -> DataType.FLOAT;
            case DOUBLE -> DataType.DOUBLE;
            case INT64 -> DataType.LONG;
            case INT32 -> DataType.INT;
            case BOOL -> DataType.BOOL;
            case UINT8 -> DataType.UBYTE;
            case INT8 -> DataType.BYTE;
            case INT16 -> DataType.SHORT;
            case FLOAT16 -> DataType.HALF;
            case BFLOAT16 -> DataType.BFLOAT16;
            default -> null;
        };
    }

    public List<String> inputNames() {
        return new ArrayList<>(session.getInputNames());
    }

    public List<String> outputNames() {
        return new ArrayList<>(session.getOutputNames());
    }

    /** Input shapes as ONNX Runtime reports them (-1 for dynamic). */
    public Map<String, long[]> inputShapes() {
        try {
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
                if (e.getValue().getInfo() instanceof TensorInfo t) {
                    shapes.put(e.getKey(), t.getShape());
                }
            }
            return shapes;
        } catch (OrtException e) {
            throw new GraftException(file + ": " + e.getMessage(), e);
        }
    }

    public Map<String, INDArray> run(Map<String, INDArray> feeds, List<String> outputs) {
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, INDArray> e : feeds.entrySet()) {
                tensors.put(e.getKey(), toTensor(e.getValue()));
            }
            List<String> names = outputs == null || outputs.isEmpty() ? outputNames() : outputs;
            try (OrtSession.Result result = session.run(tensors, new java.util.LinkedHashSet<>(names))) {
                Map<String, INDArray> out = new LinkedHashMap<>();
                for (String name : names) {
                    OnnxValue v = result.get(name).orElseThrow(() -> new GraftException("ONNX Runtime gave no output '" + name + "'"));
                    out.put(name, toArray((OnnxTensor) v));
                }
                return out;
            }
        } catch (OrtException e) {
            throw new GraftException(file + ": ONNX Runtime failed: " + e.getMessage(), e);
        } finally {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    private OnnxTensor toTensor(INDArray array) throws OrtException {
        INDArray a = array.dup('c');
        long[] shape = a.shape();
        int n = (int) a.length();
        // An empty ND4J array has no data buffer: its elements are read as none.
        boolean empty = n == 0 || a.data() == null;
        return switch (a.dataType()) {
            case FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap(empty ? new float[0] : a.data().asFloat()), shape);
            case DOUBLE -> OnnxTensor.createTensor(env, DoubleBuffer.wrap(empty ? new double[0] : a.data().asDouble()), shape);
            case LONG -> OnnxTensor.createTensor(env, LongBuffer.wrap(empty ? new long[0] : a.data().asLong()), shape);
            case INT -> OnnxTensor.createTensor(env, IntBuffer.wrap(empty ? new int[0] : a.data().asInt()), shape);
            case BOOL, UBYTE, BYTE -> {
                int[] v = empty ? new int[0] : a.data().asInt();
                ByteBuffer b = ByteBuffer.allocateDirect(v.length).order(ByteOrder.nativeOrder());
                for (int x : v) b.put((byte) (a.dataType() == DataType.BOOL ? (x != 0 ? 1 : 0) : x));
                b.rewind();
                ai.onnxruntime.OnnxJavaType type = switch (a.dataType()) {
                    case BOOL -> ai.onnxruntime.OnnxJavaType.BOOL;
                    case UBYTE -> ai.onnxruntime.OnnxJavaType.UINT8;
                    default -> ai.onnxruntime.OnnxJavaType.INT8;
                };
                yield OnnxTensor.createTensor(env, b, shape, type);
            }
            case SHORT, HALF, BFLOAT16 -> {
                ByteBuffer b = ByteBuffer.allocateDirect(2 * n).order(ByteOrder.nativeOrder());
                if (!empty) {
                    if (a.dataType() == DataType.SHORT) {
                        for (int x : a.data().asInt()) b.putShort((short) x);
                    } else {
                        for (float x : a.data().asFloat()) b.putShort(a.dataType() == DataType.HALF
                                ? dev.graft.io.Float16.fromFloat(x) : (short) (Float.floatToIntBits(x) >>> 16));
                    }
                }
                b.rewind();
                ai.onnxruntime.OnnxJavaType type = switch (a.dataType()) {
                    case SHORT -> ai.onnxruntime.OnnxJavaType.INT16;
                    case HALF -> ai.onnxruntime.OnnxJavaType.FLOAT16;
                    default -> ai.onnxruntime.OnnxJavaType.BFLOAT16;
                };
                yield OnnxTensor.createTensor(env, b, shape, type);
            }
            default -> throw new GraftException("ONNX Runtime's Java API cannot take " + a.dataType() + " tensors");
        };
    }

    private static INDArray toArray(OnnxTensor t) {
        long[] shape = t.getInfo().getShape();
        return switch (t.getInfo().type) {
            case FLOAT -> Nd4j.create(toFloats(t.getFloatBuffer()), shape, 'c');
            case DOUBLE -> {
                DoubleBuffer b = t.getDoubleBuffer();
                double[] v = new double[b.remaining()];
                b.get(v);
                yield Nd4j.create(v, shape, 'c');
            }
            case INT64 -> {
                LongBuffer b = t.getLongBuffer();
                long[] v = new long[b.remaining()];
                b.get(v);
                yield Nd4j.createFromArray(v).reshape('c', shape);
            }
            case INT32 -> {
                IntBuffer b = t.getIntBuffer();
                int[] v = new int[b.remaining()];
                b.get(v);
                yield Nd4j.createFromArray(v).reshape('c', shape);
            }
            case BOOL, UINT8, INT8 -> {
                ByteBuffer b = t.getByteBuffer();
                int[] v = new int[b.remaining()];
                for (int i = 0; i < v.length; i++) v[i] = t.getInfo().type == ai.onnxruntime.OnnxJavaType.INT8 ? b.get(i) : b.get(i) & 0xff;
                DataType dt = switch (t.getInfo().type) {
                    case BOOL -> DataType.BOOL;
                    case UINT8 -> DataType.UBYTE;
                    default -> DataType.BYTE;
                };
                yield Nd4j.createFromArray(v).reshape('c', shape).castTo(dt);
            }
            case INT16, FLOAT16, BFLOAT16 -> {
                ByteBuffer b = t.getByteBuffer().order(ByteOrder.nativeOrder());
                int n = b.remaining() / 2;
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    short bits = b.getShort(2 * i);
                    v[i] = switch (t.getInfo().type) {
                        case INT16 -> bits;
                        case FLOAT16 -> dev.graft.io.Float16.toFloat(bits);
                        default -> Float.intBitsToFloat((bits & 0xffff) << 16);
                    };
                }
                DataType dt = switch (t.getInfo().type) {
                    case INT16 -> DataType.SHORT;
                    case FLOAT16 -> DataType.HALF;
                    default -> DataType.BFLOAT16;
                };
                yield Nd4j.create(v, shape, 'c').castTo(dt);
            }
            default -> throw new GraftException("ONNX Runtime output of type " + t.getInfo().type + " is not supported");
        };
    }

    private static float[] toFloats(FloatBuffer b) {
        float[] v = new float[b.remaining()];
        b.get(v);
        return v;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new GraftException(file + ": closing the ONNX Runtime session failed: " + e.getMessage(), e);
        }
    }
}
