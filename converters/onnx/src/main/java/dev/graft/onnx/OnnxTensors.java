package dev.graft.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.graft.GraftException;
import dev.graft.io.Float16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Converts ONNX {@code TensorProto}s to ND4J arrays and back. Every size is checked against the dims before
 * anything is allocated, so a corrupt file yields a {@link GraftException} instead of an exhausted heap.
 */
public final class OnnxTensors {

    /** Largest element count graft accepts in one tensor (2^31 - 1: ND4J's buffers are int-indexed here). */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE;

    private OnnxTensors() {
    }

    public static DataType toNd4j(int onnxType, String where) {
        return switch (onnxType) {
            case TensorProto.DataType.FLOAT_VALUE -> DataType.FLOAT;
            case TensorProto.DataType.DOUBLE_VALUE -> DataType.DOUBLE;
            case TensorProto.DataType.FLOAT16_VALUE -> DataType.HALF;
            case TensorProto.DataType.BFLOAT16_VALUE -> DataType.BFLOAT16;
            case TensorProto.DataType.INT64_VALUE -> DataType.LONG;
            case TensorProto.DataType.INT32_VALUE -> DataType.INT;
            case TensorProto.DataType.INT16_VALUE -> DataType.SHORT;
            case TensorProto.DataType.INT8_VALUE -> DataType.BYTE;
            case TensorProto.DataType.UINT8_VALUE -> DataType.UBYTE;
            case TensorProto.DataType.UINT16_VALUE -> DataType.UINT16;
            case TensorProto.DataType.UINT32_VALUE -> DataType.UINT32;
            case TensorProto.DataType.UINT64_VALUE -> DataType.UINT64;
            case TensorProto.DataType.BOOL_VALUE -> DataType.BOOL;
            case TensorProto.DataType.STRING_VALUE -> DataType.UTF8;
            default -> throw new GraftException(where + ": unsupported ONNX element type "
                    + TensorProto.DataType.forNumber(onnxType) + " (" + onnxType + ")");
        };
    }

    public static int toOnnx(DataType type) {
        return switch (type) {
            case FLOAT -> TensorProto.DataType.FLOAT_VALUE;
            case DOUBLE -> TensorProto.DataType.DOUBLE_VALUE;
            case HALF -> TensorProto.DataType.FLOAT16_VALUE;
            case BFLOAT16 -> TensorProto.DataType.BFLOAT16_VALUE;
            case LONG -> TensorProto.DataType.INT64_VALUE;
            case INT -> TensorProto.DataType.INT32_VALUE;
            case SHORT -> TensorProto.DataType.INT16_VALUE;
            case BYTE -> TensorProto.DataType.INT8_VALUE;
            case UBYTE -> TensorProto.DataType.UINT8_VALUE;
            case UINT16 -> TensorProto.DataType.UINT16_VALUE;
            case UINT32 -> TensorProto.DataType.UINT32_VALUE;
            case UINT64 -> TensorProto.DataType.UINT64_VALUE;
            case BOOL -> TensorProto.DataType.BOOL_VALUE;
            case UTF8 -> TensorProto.DataType.STRING_VALUE;
            default -> throw new GraftException("no ONNX element type for " + type);
        };
    }

    /** Checks dims (non-negative, no overflow, under the size limit) and returns the element count. */
    public static long elementCount(long[] dims, String where) {
        long count = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new GraftException(where + ": negative dimension " + d + " in dims " + java.util.Arrays.toString(dims));
            }
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw new GraftException(where + ": dims " + java.util.Arrays.toString(dims) + " overflow a 64-bit element count");
            }
        }
        if (count > MAX_ELEMENTS) {
            throw new GraftException(where + ": dims " + java.util.Arrays.toString(dims) + " hold " + count
                    + " elements, more than graft supports in one tensor (" + MAX_ELEMENTS + ")");
        }
        return count;
    }

    /**
     * Reads a tensor. {@code raw} overrides the proto's own raw_data (used for external data, which the
     * caller has already loaded and bounds-checked). {@code where} prefixes every error message.
     */
    public static INDArray toArray(TensorProto t, ByteString raw, String where) {
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        long count = elementCount(dims, where);
        DataType type = toNd4j(t.getDataType(), where);
        if (type == DataType.UTF8) {
            throw new GraftException(where + ": string tensors are not supported");
        }
        int n = (int) count;
        ByteString bytes = raw != null ? raw : t.hasRawData() ? t.getRawData() : null;
        if (bytes != null) {
            long expected = count * type.width();
            if (bytes.size() != expected) {
                throw new GraftException(where + ": raw data holds " + bytes.size() + " bytes but dims "
                        + java.util.Arrays.toString(dims) + " of " + type + " need " + expected);
            }
            ByteBuffer buf = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            return fromLittleEndian(buf, type, dims, n);
        }
        int stored = switch (type) {
            case FLOAT -> t.getFloatDataCount();
            case DOUBLE -> t.getDoubleDataCount();
            case LONG -> t.getInt64DataCount();
            case UINT32, UINT64 -> t.getUint64DataCount();
            default -> t.getInt32DataCount();
        };
        if (stored != count) {
            throw new GraftException(where + ": holds " + stored + " values but dims "
                    + java.util.Arrays.toString(dims) + " need " + count);
        }
        switch (type) {
            case FLOAT -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) v[i] = t.getFloatData(i);
                return Nd4j.create(v, dims, 'c');
            }
            case DOUBLE -> {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) v[i] = t.getDoubleData(i);
                return Nd4j.create(v, dims, 'c');
            }
            case LONG -> {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) v[i] = t.getInt64Data(i);
                return Nd4j.createFromArray(v).reshape('c', dims);
            }
            case UINT32, UINT64 -> {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) v[i] = t.getUint64Data(i);
                return Nd4j.createFromArray(v).reshape('c', dims).castTo(type);
            }
            case HALF, BFLOAT16 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    int bits = t.getInt32Data(i) & 0xffff;
                    v[i] = type == DataType.HALF ? Float16.toFloat((short) bits) : Float.intBitsToFloat(bits << 16);
                }
                return Nd4j.create(v, dims, 'c').castTo(type);
            }
            default -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) v[i] = t.getInt32Data(i);
                return Nd4j.createFromArray(v).reshape('c', dims).castTo(type);
            }
        }
    }

    private static INDArray fromLittleEndian(ByteBuffer buf, DataType type, long[] dims, int n) {
        switch (type) {
            case FLOAT -> {
                float[] v = new float[n];
                buf.asFloatBuffer().get(v);
                return Nd4j.create(v, dims, 'c');
            }
            case DOUBLE -> {
                double[] v = new double[n];
                buf.asDoubleBuffer().get(v);
                return Nd4j.create(v, dims, 'c');
            }
            case LONG, UINT64 -> {
                long[] v = new long[n];
                buf.asLongBuffer().get(v);
                INDArray a = Nd4j.createFromArray(v).reshape('c', dims);
                return type == DataType.LONG ? a : a.castTo(type);
            }
            case INT, UINT32 -> {
                int[] v = new int[n];
                buf.asIntBuffer().get(v);
                INDArray a = Nd4j.createFromArray(v).reshape('c', dims);
                if (type == DataType.INT) return a;
                long[] wide = new long[n];
                for (int i = 0; i < n; i++) wide[i] = v[i] & 0xffffffffL;
                return Nd4j.createFromArray(wide).reshape('c', dims).castTo(type);
            }
            case SHORT, UINT16 -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    short s = buf.getShort(i * 2);
                    v[i] = type == DataType.SHORT ? s : s & 0xffff;
                }
                return Nd4j.createFromArray(v).reshape('c', dims).castTo(type);
            }
            case HALF, BFLOAT16 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    short s = buf.getShort(i * 2);
                    v[i] = type == DataType.HALF ? Float16.toFloat(s) : Float.intBitsToFloat((s & 0xffff) << 16);
                }
                return Nd4j.create(v, dims, 'c').castTo(type);
            }
            case BYTE, UBYTE, BOOL -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    byte b = buf.get(i);
                    v[i] = type == DataType.BYTE ? b : b & 0xff;
                }
                return Nd4j.createFromArray(v).reshape('c', dims).castTo(type);
            }
            default -> throw new IllegalStateException("unreachable: " + type);
        }
    }

    /** Writes an array as a TensorProto with raw_data (little endian, C order). */
    public static TensorProto toProto(String name, INDArray array) {
        INDArray arr = array.dup('c');
        DataType type = arr.dataType();
        int n = (int) arr.length();
        ByteBuffer out = ByteBuffer.allocate(n * type.width()).order(ByteOrder.LITTLE_ENDIAN);
        // An empty array has no data buffer in ND4J: nothing to write.
        if (n > 0) switch (type) {
            case FLOAT -> { for (float v : arr.data().asFloat()) out.putFloat(v); }
            case DOUBLE -> { for (double v : arr.data().asDouble()) out.putDouble(v); }
            case LONG, UINT64 -> { for (long v : arr.data().asLong()) out.putLong(v); }
            case INT, UINT32 -> { for (long v : arr.data().asLong()) out.putInt((int) v); }
            case SHORT, UINT16 -> { for (int v : arr.data().asInt()) out.putShort((short) v); }
            case HALF -> { for (float v : arr.data().asFloat()) out.putShort(Float16.fromFloat(v)); }
            case BFLOAT16 -> { for (float v : arr.data().asFloat()) out.putShort((short) (Float.floatToIntBits(v) >>> 16)); }
            case BYTE, UBYTE -> { for (int v : arr.data().asInt()) out.put((byte) v); }
            case BOOL -> { for (int v : arr.data().asInt()) out.put((byte) (v != 0 ? 1 : 0)); }
            default -> throw new GraftException("cannot write tensor '" + name + "' of type " + type + " to ONNX");
        }
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(toOnnx(type));
        long[] dims = arr.shape();
        if (arr.isEmpty() && java.util.Arrays.stream(dims).noneMatch(d -> d == 0)) {
            dims = new long[]{0}; // ND4J's empty arrays may report rank 0; ONNX needs a zero dimension
        }
        for (long d : dims) b.addDims(d);
        return b.setRawData(com.google.protobuf.ByteString.copyFrom(out.array())).build();
    }
}
