package dev.graft.train.report;
import java.io.PrintStream; import java.util.Map;
public final class EpochProgress implements AutoCloseable {
  public EpochProgress(PrintStream out, String task, long total, boolean quiet) {}
  public void step(long n, Map<String, Double> m) {}
  public void finish(Map<String, Object> row) {}
  public void close() {}
}
