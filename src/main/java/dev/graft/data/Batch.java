package dev.graft.data;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
public record Batch(Map<String, INDArray> inputs, Map<String, INDArray> labels) {}
