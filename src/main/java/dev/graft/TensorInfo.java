package dev.graft;

import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Name, element type and shape of a model input or output. A dimension of -1 is dynamic; {@code dimNames}
 * keeps its symbolic name ("batch", "p2o.DynamicDimension.0") when the source had one, else null.
 */
public record TensorInfo(String name, DataType dataType, long[] shape, List<String> dimNames) {

    public TensorInfo {
        shape = shape == null ? null : shape.clone();
    }

    public boolean hasKnownRank() {
        return shape != null;
    }

    /** True when an array of this shape can be fed here: same rank, and equal on every fixed dimension. */
    public boolean accepts(long[] actual) {
        if (shape == null) return true;
        if (actual.length != shape.length) return false;
        for (int i = 0; i < actual.length; i++) {
            if (shape[i] >= 0 && shape[i] != actual[i]) return false;
        }
        return true;
    }

    /** Shape as text, e.g. {@code [batch, 3, 224, 224]}. */
    public String shapeText() {
        if (shape == null) {
            return "[?]";
        }
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) sb.append(", ");
            String symbol = dimNames == null || i >= dimNames.size() ? null : dimNames.get(i);
            sb.append(shape[i] >= 0 ? Long.toString(shape[i]) : symbol != null && !symbol.isEmpty() ? symbol : "?");
        }
        return sb.append(']').toString();
    }

    @Override
    public long[] shape() {
        return shape == null ? null : shape.clone();
    }

    @Override
    public String toString() {
        return name + " " + dataType + " " + shapeText();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && t.dataType == dataType
                && Arrays.equals(t.shape, shape) && java.util.Objects.equals(t.dimNames, dimNames);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
