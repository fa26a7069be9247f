package dev.graft.data;

import static dev.graft.data.DataAssert.assertFails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Gathering rows into batches and subsets, and the seeded split. */
class DatasetTest {

    static final int N = 20;

    /** Row i of the image input holds 100 i + k at flat position k; class label i % 3; tags row i = [i, NaN]. */
    static Dataset numbered() {
        float[] img = new float[N * 2 * 2];
        for (int i = 0; i < img.length; i++) img[i] = 100 * (i / 4) + i % 4;
        long[] cls = new long[N];
        float[][] tags = new float[N][];
        for (int i = 0; i < N; i++) {
            cls[i] = i % 3 == 2 ? -1 : i % 3;
            tags[i] = new float[]{i, Float.NaN};
        }
        return Dataset.of(Map.of("img", Nd4j.create(img, new long[]{N, 2, 2}, 'c')),
                Map.of("cls", Nd4j.createFromArray(cls), "tags", Nd4j.createFromArray(tags)));
    }

    @Test
    void batchGathersTheGivenRowsInOrder() {
        Batch b = numbered().batch(new int[]{7, 0, 7, 19});
        INDArray img = b.inputs().get("img");
        assertArrayEquals(new long[]{4, 2, 2}, img.shape());
        float[] expected = {700, 701, 702, 703, 0, 1, 2, 3, 700, 701, 702, 703, 1900, 1901, 1902, 1903};
        assertArrayEquals(expected, img.dup('c').data().asFloat());
        INDArray cls = b.labels().get("cls");
        assertEquals(DataType.LONG, cls.dataType());
        assertArrayEquals(new long[]{4}, cls.shape());
        assertArrayEquals(new long[]{1, 0, 1, 1}, cls.dup().data().asLong()); // 7%3=1, 0, 1, 19%3=1
        INDArray tags = b.labels().get("tags");
        assertArrayEquals(new long[]{4, 2}, tags.shape());
        assertEquals(19f, tags.getFloat(3, 0));
        assertTrue(Float.isNaN(tags.getFloat(3, 1)), "a missing label stays NaN");
    }

    @Test
    void batchCopiesSoChangesDoNotReachTheDataset() {
        Dataset d = numbered();
        d.batch(new int[]{1}).inputs().get("img").assign(-5);
        assertEquals(100f, d.inputs().get("img").getFloat(1, 0, 0));
    }

    @Test
    void subsetKeepsMissingLabels() {
        Dataset s = numbered().subset(new int[]{2, 5});
        assertEquals(2, s.size());
        assertArrayEquals(new long[]{-1, -1}, s.labels().get("cls").dup().data().asLong());
        assertEquals(500f, s.inputs().get("img").getFloat(1, 0, 0));
    }

    @Test
    void splitIsSeededDisjointAndComplete() {
        Dataset d = numbered();
        Dataset[] a = d.split(0.25, 42);
        Dataset[] b = d.split(0.25, 42);
        Dataset[] c = d.split(0.25, 43);
        assertEquals(15, a[0].size());
        assertEquals(5, a[1].size()); // 0.25 * 20
        Set<Integer> train = ids(a[0]);
        Set<Integer> val = ids(a[1]);
        assertEquals(15, train.size(), "no row twice in the training part");
        Set<Integer> all = new TreeSet<>(train);
        all.addAll(val);
        assertEquals(N, all.size(), "disjoint, and together every row");
        assertEquals(val, ids(b[1]), "same seed, same split");
        assertNotEquals(val, ids(c[1]), "another seed, another split");
        // labels travel with their rows
        for (int r = 0; r < a[1].size(); r++) {
            int id = (int) (a[1].inputs().get("img").getFloat(r, 0, 0) / 100);
            assertEquals(id, a[1].labels().get("tags").getFloat(r, 0));
            assertEquals(id % 3 == 2 ? -1 : id % 3, a[1].labels().get("cls").getLong(r));
        }
    }

    static Set<Integer> ids(Dataset d) {
        Set<Integer> s = new TreeSet<>();
        float[] v = d.inputs().get("img").dup('c').data().asFloat();
        for (int r = 0; r < d.size(); r++) s.add((int) (v[r * 4] / 100));
        return s;
    }

    @Test
    void badRowsAndSplitsAreRefused() {
        Dataset d = numbered();
        assertFails(() -> d.batch(new int[]{0, 20}), "row index 20 (position 1) is outside 0..19");
        assertFails(() -> d.subset(new int[]{-1}), "row index -1");
        assertFails(() -> d.split(0, 1), "validation split 0.0 must be between 0 and 1");
        assertFails(() -> d.split(1.5, 1), "validation split 1.5");
        assertFails(() -> d.split(0.01, 1), "leaves no validation row");
        assertFails(() -> Dataset.of(Map.of("img", Nd4j.zeros(3, 2)), Map.of("cls", Nd4j.zeros(DataType.LONG, 4))),
                "'labels of cls' has 4 rows, the first input has 3");
        assertTrue(Arrays.asList(d.split(0.5, 1)).stream().allMatch(p -> p.size() == 10));
    }
}
