package dev.graft.train.report;
import java.nio.file.Path; import java.util.*;
public final class MetricsLog { public void add(Map<String, Object> r) {} public void write(Path p) {} }
