package dev.graft.data;
import java.util.*;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
public final class Dataset {
  private final Map<String, INDArray> inputs, labels;
  private Dataset(Map<String, INDArray> i, Map<String, INDArray> l) { inputs = i; labels = l; }
  public static Dataset of(Map<String, INDArray> i, Map<String, INDArray> l) { return new Dataset(new LinkedHashMap<>(i), new LinkedHashMap<>(l)); }
  public int size() { return (int) inputs.values().iterator().next().size(0); }
  public Map<String, INDArray> inputs() { return inputs; }
  public Map<String, INDArray> labels() { return labels; }
  public Batch batch(int[] rows) { return new Batch(gather(inputs, rows), gather(labels, rows)); }
  public Dataset subset(int[] rows) { return new Dataset(gather(inputs, rows), gather(labels, rows)); }
  public Dataset[] split(double f, long seed) {
    int n = size(); int[] o = java.util.stream.IntStream.range(0, n).toArray(); Random r = new Random(seed);
    for (int i = n - 1; i > 0; i--) { int j = r.nextInt(i + 1); int t = o[i]; o[i] = o[j]; o[j] = t; }
    int v = (int) Math.round(n * f);
    return new Dataset[]{subset(Arrays.copyOfRange(o, v, n)), subset(Arrays.copyOfRange(o, 0, v))};
  }
  private static Map<String, INDArray> gather(Map<String, INDArray> m, int[] rows) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    m.forEach((k, v) -> { INDArray[] parts = new INDArray[rows.length]; for (int i = 0; i < rows.length; i++) parts[i] = v.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(rows[i], rows[i] + 1)); out.put(k, Nd4j.concat(0, parts).dup()); });
    return out;
  }
}
