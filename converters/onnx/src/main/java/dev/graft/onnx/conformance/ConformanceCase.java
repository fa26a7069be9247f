package dev.graft.onnx.conformance;

import java.util.List;

/** The outcome of one backend test case. */
public record ConformanceCase(String name, String suite, Status status, String reason, double maxAbsError,
                              double maxRelError, boolean inScope, List<String> ops, long millis) {

    public enum Status { PASSED, FAILED, SKIPPED }
}
