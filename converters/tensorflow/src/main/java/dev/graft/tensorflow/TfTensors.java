package dev.graft.tensorflow;

import dev.graft.GraftException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.RawTensor;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.ByteDataBuffer;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TUint16;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TType;

/**
 * Copies tensors between TensorFlow Java and ND4J. Both keep dense row-major little-endian buffers for the
 * numeric types graft handles, so a conversion is one byte copy; strings and resources are refused by name.
 */
public final class TfTensors {

    private TfTensors() {
    }

    /** ND4J's type for a TensorFlow dtype; {@code where} names the node or tensor for the error. */
    public static DataType toNd4j(org.tensorflow.proto.DataType type, String where) {
        return switch (type) {
            case DT_FLOAT -> DataType.FLOAT;
            case DT_DOUBLE -> DataType.DOUBLE;
            case DT_HALF -> DataType.HALF;
            case DT_BFLOAT16 -> DataType.BFLOAT16;
            case DT_INT32 -> DataType.INT;
            case DT_INT64 -> DataType.LONG;
            case DT_INT16 -> DataType.SHORT;
            case DT_INT8 -> DataType.BYTE;
            case DT_UINT8 -> DataType.UBYTE;
            case DT_UINT16 -> DataType.UINT16;
            case DT_BOOL -> DataType.BOOL;
            default -> throw new GraftException(where + ": TensorFlow type " + type + " is not supported");
        };
    }

    static Class<? extends TType> tfClass(DataType type, String where) {
        return switch (type) {
            case FLOAT -> TFloat32.class;
            case DOUBLE -> TFloat64.class;
            case HALF -> TFloat16.class;
            case BFLOAT16 -> TBfloat16.class;
            case INT -> TInt32.class;
            case LONG -> TInt64.class;
            case UBYTE -> TUint8.class;
            case UINT16 -> TUint16.class;
            case BOOL -> TBool.class;
            default -> throw new GraftException(where + ": cannot hand ND4J type " + type + " to TensorFlow");
        };
    }

    /** A copy of a TensorFlow tensor as an ND4J array of the same type and shape. */
    public static INDArray toNd4j(Tensor t, String where) {
        RawTensor raw = t.asRawTensor();
        DataType type = toNd4j(raw.dataType(), where);
        long[] shape = raw.shape().asArray();
        long n = raw.shape().size();
        if (n > Integer.MAX_VALUE) throw new GraftException(where + ": tensor of " + n + " elements is too large");
        byte[] bytes = new byte[(int) raw.numBytes()];
        raw.data().read(bytes);
        if (n == 0) return Nd4j.create(type, shape);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        INDArray out = Nd4j.create(type, shape, 'c');
        switch (type) {
            case FLOAT -> out.data().setData(toFloats(buf, (int) n));
            case DOUBLE -> {
                double[] d = new double[(int) n];
                buf.asDoubleBuffer().get(d);
                out.data().setData(d);
            }
            case INT -> {
                int[] d = new int[(int) n];
                buf.asIntBuffer().get(d);
                out.data().setData(d);
            }
            case LONG -> {
                long[] d = new long[(int) n];
                buf.asLongBuffer().get(d);
                out.data().setData(d);
            }
            case BOOL, UBYTE -> {
                for (int i = 0; i < n; i++) out.data().put(i, bytes[i] & 0xff);
            }
            default -> {
                // half, bfloat16, uint16, int16, int8: through ND4J's own byte view of the buffer.
                out.data().asNio().order(ByteOrder.nativeOrder()).put(bytes);
            }
        }
        return out;
    }

    private static float[] toFloats(ByteBuffer buf, int n) {
        float[] f = new float[n];
        buf.asFloatBuffer().get(f);
        return f;
    }

    /** A TensorFlow tensor holding a copy of an ND4J array (the caller closes it). */
    public static Tensor toTensorflow(INDArray a, String where) {
        INDArray c = a.dup('c');
        Class<? extends TType> cls = tfClass(c.dataType(), where);
        long n = c.length();
        ByteBuffer buf = ByteBuffer.allocate((int) (n * c.dataType().width())).order(ByteOrder.LITTLE_ENDIAN);
        switch (c.dataType()) {
            case FLOAT -> buf.asFloatBuffer().put(c.data().asFloat());
            case DOUBLE -> buf.asDoubleBuffer().put(c.data().asDouble());
            case INT -> buf.asIntBuffer().put(c.data().asInt());
            case LONG -> buf.asLongBuffer().put(c.data().asLong());
            case BOOL, UBYTE -> {
                for (int i = 0; i < n; i++) buf.put(i, (byte) c.data().getInt(i));
            }
            default -> {
                ByteBuffer src = c.data().asNio().order(ByteOrder.nativeOrder());
                src.rewind();
                buf.put(src);
            }
        }
        ByteDataBuffer data = DataBuffers.of(buf.array(), true, false);
        return Tensor.of(cls, Shape.of(c.shape()), data);
    }
}
