package dev.graft.train.report;
import java.util.*;
import org.nd4j.linalg.api.ndarray.INDArray;
public final class HeadMetrics {
  public static Map<String, Double> classes(INDArray p, INDArray l) { Map<String, Double> m = new LinkedHashMap<>(); int ok = 0, n = 0; for (int i = 0; i < l.length(); i++) { long y = l.getLong(i); if (y < 0) continue; n++; if (p.getRow(i).argMax().getLong(0) == y) ok++; } m.put("accuracy", n == 0 ? Double.NaN : ok / (double) n); m.put("macro_f1", Double.NaN); return m; }
  public static Map<String, Double> multiLabel(INDArray p, INDArray l) { Map<String, Double> m = new LinkedHashMap<>(); m.put("accuracy", Double.NaN); m.put("f1", Double.NaN); return m; }
  public static Map<String, Double> values(INDArray p, INDArray l) { return new LinkedHashMap<>(Map.of("mae", Double.NaN)); }
}
