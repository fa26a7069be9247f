package dev.graft.io;

import dev.graft.GraftException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads and writes NumPy {@code .npy} files (format 1.0/2.0, C order, little or big endian), so that
 * arrays can be exchanged with Python tools. Errors name the file and the field that is wrong.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([a-zA-Z])(\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    public static INDArray read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new GraftException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        return parse(bytes, file.toString());
    }

    /** Reads every array of a NumPy {@code .npz} archive (stored or deflated), keyed by name without ".npy". */
    public static java.util.Map<String, INDArray> readNpz(Path file) {
        java.util.Map<String, INDArray> arrays = new java.util.LinkedHashMap<>();
        try (java.util.zip.ZipInputStream zip = new java.util.zip.ZipInputStream(Files.newInputStream(file))) {
            for (java.util.zip.ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                String name = e.getName().endsWith(".npy") ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
                arrays.put(name, parse(zip.readAllBytes(), file + "!" + e.getName()));
            }
        } catch (IOException e) {
            throw new GraftException(file + ": cannot read .npz (" + e.getMessage() + ")", e);
        }
        return arrays;
    }

    public static INDArray parse(byte[] bytes, String source) {
        if (bytes.length < 10) {
            throw new GraftException(source + ": not a .npy file (too short)");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                throw new GraftException(source + ": not a .npy file (bad magic bytes)");
            }
        }
        int major = bytes[6] & 0xff;
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int headerStart;
        if (major == 1) {
            headerLen = buf.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            headerLen = buf.getInt(8) & 0xffffffffL;
            headerStart = 12;
        } else {
            throw new GraftException(source + ": unsupported .npy format version " + major);
        }
        if (headerStart + headerLen > bytes.length) {
            throw new GraftException(source + ": truncated .npy header");
        }
        String header = new String(bytes, headerStart, (int) headerLen, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !s.find()) {
            throw new GraftException(source + ": .npy header lacks 'descr' or 'shape': " + header.trim());
        }
        if (f.find() && f.group(1).equals("True")) {
            throw new GraftException(source + ": Fortran-ordered .npy arrays are not supported; save with np.ascontiguousarray");
        }
        ByteOrder order = d.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        DataType type = dataType(d.group(2), Integer.parseInt(d.group(3)), source);
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            if (!part.isBlank()) {
                dims.add(Long.parseLong(part.trim()));
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long count = 1;
        for (long dim : shape) {
            count = Math.multiplyExact(count, dim);
        }
        int width = type.width();
        long dataStart = headerStart + headerLen;
        if (dataStart + count * width > bytes.length) {
            throw new GraftException(source + ": .npy data holds " + (bytes.length - dataStart) + " bytes, shape "
                    + dims + " of " + type + " needs " + count * width);
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) dataStart, (int) (count * width)).slice().order(order);
        return fromBuffer(data, type, shape, (int) count);
    }

    private static INDArray fromBuffer(ByteBuffer data, DataType type, long[] shape, int count) {
        switch (type) {
            case FLOAT -> {
                float[] v = new float[count];
                data.asFloatBuffer().get(v);
                return Nd4j.create(v, shape, 'c');
            }
            case DOUBLE -> {
                double[] v = new double[count];
                data.asDoubleBuffer().get(v);
                return Nd4j.create(v, shape, 'c');
            }
            case LONG -> {
                long[] v = new long[count];
                data.asLongBuffer().get(v);
                return Nd4j.createFromArray(v).reshape('c', shape);
            }
            case INT -> {
                int[] v = new int[count];
                data.asIntBuffer().get(v);
                return Nd4j.createFromArray(v).reshape('c', shape);
            }
            case SHORT -> {
                short[] v = new short[count];
                data.asShortBuffer().get(v);
                return Nd4j.createFromArray(v).reshape('c', shape);
            }
            case HALF -> {
                float[] v = new float[count];
                for (int i = 0; i < count; i++) {
                    v[i] = Float16.toFloat(data.getShort(i * 2));
                }
                return Nd4j.create(v, shape, 'c').castTo(DataType.HALF);
            }
            case BYTE, UBYTE, BOOL -> {
                byte[] v = new byte[count];
                data.get(v);
                INDArray arr = Nd4j.createFromArray(v).reshape('c', shape);
                if (type == DataType.BYTE) return arr;
                int[] widened = new int[count];
                for (int i = 0; i < count; i++) widened[i] = v[i] & 0xff;
                return Nd4j.createFromArray(widened).reshape('c', shape).castTo(type);
            }
            default -> throw new IllegalStateException("unreachable: " + type);
        }
    }

    private static DataType dataType(String kind, int bytes, String source) {
        return switch (kind + bytes) {
            case "f4" -> DataType.FLOAT;
            case "f8" -> DataType.DOUBLE;
            case "f2" -> DataType.HALF;
            case "i8" -> DataType.LONG;
            case "i4" -> DataType.INT;
            case "i2" -> DataType.SHORT;
            case "i1" -> DataType.BYTE;
            case "u1" -> DataType.UBYTE;
            case "b1" -> DataType.BOOL;
            default -> throw new GraftException(source + ": unsupported .npy dtype '" + kind + bytes
                    + "' (supported: float16/32/64, int8/16/32/64, uint8, bool)");
        };
    }

    private static String descr(DataType type) {
        return switch (type) {
            case FLOAT -> "<f4";
            case DOUBLE -> "<f8";
            case HALF -> "<f2";
            case LONG -> "<i8";
            case INT -> "<i4";
            case SHORT -> "<i2";
            case BYTE -> "|i1";
            case UBYTE -> "|u1";
            case BOOL -> "|b1";
            default -> throw new GraftException("cannot write " + type + " arrays as .npy");
        };
    }

    public static byte[] toBytes(INDArray array) {
        INDArray arr = array.dup('c');
        DataType type = arr.dataType();
        StringBuilder shape = new StringBuilder("(");
        for (long d : arr.shape()) {
            shape.append(d).append(", ");
        }
        if (arr.rank() > 1) shape.setLength(shape.length() - 2);
        else if (arr.rank() == 1) shape.setLength(shape.length() - 1);
        shape.append(")");
        String header = "{'descr': '" + descr(type) + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = 10 + header.length() + 1;
        int pad = (64 - total % 64) % 64;
        header = header + " ".repeat(pad) + "\n";
        int count = (int) arr.length();
        int width = type.width();
        ByteBuffer out = ByteBuffer.allocate(10 + header.length() + count * width).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        out.put(header.getBytes(StandardCharsets.ISO_8859_1));
        switch (type) {
            case FLOAT -> { for (float v : arr.data().asFloat()) out.putFloat(v); }
            case DOUBLE -> { for (double v : arr.data().asDouble()) out.putDouble(v); }
            case HALF -> { for (float v : arr.data().asFloat()) out.putShort(Float16.fromFloat(v)); }
            case LONG -> { for (long v : arr.data().asLong()) out.putLong(v); }
            case INT -> { for (int v : arr.data().asInt()) out.putInt(v); }
            case SHORT -> { for (int v : arr.data().asInt()) out.putShort((short) v); }
            case BYTE, UBYTE -> { for (int v : arr.data().asInt()) out.put((byte) v); }
            case BOOL -> { for (int v : arr.data().asInt()) out.put((byte) (v != 0 ? 1 : 0)); }
            default -> throw new IllegalStateException("unreachable: " + type);
        }
        return out.array();
    }

    /** Writes atomically: a temporary file next to the target, then a rename. */
    public static void write(INDArray array, Path file) {
        AtomicFiles.write(file, toBytes(array));
    }
}
