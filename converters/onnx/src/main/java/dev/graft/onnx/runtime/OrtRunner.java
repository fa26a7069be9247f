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
        return switch (a.dataType()) {
            case FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap(a.data().asFloat()), shape);
            case DOUBLE -> OnnxTensor.createTensor(env, DoubleBuffer.wrap(a.data().asDouble()), shape);
            case LONG -> OnnxTensor.createTensor(env, LongBuffer.wrap(a.data().asLong()), shape);
            case INT -> OnnxTensor.createTensor(env, IntBuffer.wrap(a.data().asInt()), shape);
            case BOOL -> {
                int[] v = a.data().asInt();
                ByteBuffer b = ByteBuffer.allocateDirect(v.length).order(ByteOrder.nativeOrder());
                for (int x : v) b.put((byte) (x != 0 ? 1 : 0));
                b.rewind();
                yield OnnxTensor.createTensor(env, b, shape, ai.onnxruntime.OnnxJavaType.BOOL);
            }
            case UBYTE -> {
                int[] v = a.data().asInt();
                ByteBuffer b = ByteBuffer.allocateDirect(v.length).order(ByteOrder.nativeOrder());
                for (int x : v) b.put((byte) x);
                b.rewind();
                yield OnnxTensor.createTensor(env, b, shape, ai.onnxruntime.OnnxJavaType.UINT8);
            }
            default -> throw new GraftException("cannot feed " + a.dataType() + " arrays to ONNX Runtime");
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
