package dev.graft.data;

import dev.graft.GraftException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Rows of inputs and labels, all held in memory (graft's datasets are the small task-B sets of transfer
 * learning; nothing is streamed from disk). inputs: model input name -> [n, ...] float array; labels: head
 * name -> [n] class indices (LONG, -1 missing) for a CLASSES head, or [n, size] FLOAT (NaN missing) for a
 * MULTI_LABEL or VALUES head. Every array has the same number of rows n.
 */
public final class Dataset {

    private final Map<String, INDArray> inputs;
    private final Map<String, INDArray> labels;
    private final int size;

    private Dataset(Map<String, INDArray> inputs, Map<String, INDArray> labels) {
        if (inputs.isEmpty()) throw new GraftException("a dataset needs at least one input array");
        this.inputs = inputs;
        this.labels = labels;
        this.size = (int) inputs.values().iterator().next().size(0);
        Map<String, INDArray> all = new LinkedHashMap<>(inputs);
        labels.forEach((k, v) -> all.put("labels of " + k, v));
        all.forEach((k, v) -> {
            if (v.size(0) != size) {
                throw new GraftException("dataset: '" + k + "' has " + v.size(0) + " rows, the first input has " + size);
            }
        });
    }

    /** A dataset from arrays (rows first); the maps are copied, the arrays are not. */
    public static Dataset of(Map<String, INDArray> inputs, Map<String, INDArray> labels) {
        return new Dataset(new LinkedHashMap<>(inputs), new LinkedHashMap<>(labels));
    }

    public int size() {
        return size;
    }

    public Map<String, INDArray> inputs() {
        return inputs;
    }

    public Map<String, INDArray> labels() {
        return labels;
    }

    /** The given rows (0-based, repeats allowed), gathered (copied) in that order. */
    public Batch batch(int[] rows) {
        checkRows(rows);
        return new Batch(gather(inputs, rows), gather(labels, rows));
    }

    /** Only the inputs of the given rows (running the model needs no labels). */
    public Map<String, INDArray> inputs(int[] rows) {
        checkRows(rows);
        return gather(inputs, rows);
    }

    /** Only the labels of the given rows (heads training on cached trunk outputs need no inputs). */
    public Map<String, INDArray> labels(int[] rows) {
        checkRows(rows);
        return gather(labels, rows);
    }

    /** A new dataset of the given rows (0-based), copied in that order. */
    public Dataset subset(int[] rows) {
        checkRows(rows);
        if (rows.length == 0) throw new GraftException("dataset: a subset needs at least one row");
        return new Dataset(gather(inputs, rows), gather(labels, rows));
    }

    /**
     * A seeded shuffle split into [train, validation], the validation part holding {@code fraction} of the rows
     * (rounded); the same seed gives the same split, and the two parts share no row.
     */
    public Dataset[] split(double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new GraftException("validation split " + fraction + " must be between 0 and 1 (exclusive)");
        }
        int[] order = java.util.stream.IntStream.range(0, size).toArray();
        Random r = new Random(seed);
        for (int i = size - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int v = (int) Math.round(size * fraction);
        if (v == 0 || v == size) {
            throw new GraftException("split " + fraction + " of " + size + " rows leaves " + (v == 0 ? "no validation" : "no training") + " row");
        }
        return new Dataset[]{subset(Arrays.copyOfRange(order, v, size)), subset(Arrays.copyOfRange(order, 0, v))};
    }

    private void checkRows(int[] rows) {
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= size) {
                throw new GraftException("dataset: row index " + rows[i] + " (position " + i + ") is outside 0.." + (size - 1));
            }
        }
    }

    private static Map<String, INDArray> gather(Map<String, INDArray> m, int[] rows) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : m.entrySet()) {
            INDArray v = e.getValue();
            long[] shape = v.shape();
            long width = v.length() / Math.max(1, shape[0]);
            INDArray flat = v.reshape('c', shape[0], width);
            INDArray picked = Nd4j.pullRows(flat, 1, rows);
            long[] outShape = shape.clone();
            outShape[0] = rows.length;
            out.put(e.getKey(), picked.reshape('c', outShape));
        }
        return out;
    }
}
