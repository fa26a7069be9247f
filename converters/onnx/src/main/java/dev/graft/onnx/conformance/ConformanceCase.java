package dev.graft.onnx.conformance;

import java.util.List;

/**
 * The outcome of one backend test case: the import (graft in SameDiff vs the expected outputs) and, when
 * asked for, two round trips (import, export to ONNX, ONNX Runtime vs the expected outputs): {@code
 * roundTrip} with the exporter's default (intact source nodes written back as they were) and {@code
 * lowered} with every SameDiff op spelled out by the op exporters. A round trip not run is null.
 */
public record ConformanceCase(String name, String suite, Status status, String reason, double maxAbsError,
                              double maxRelError, boolean inScope, List<String> ops, long millis,
                              Status roundTrip, String roundTripReason, Status lowered, String loweredReason) {

    public enum Status { PASSED, FAILED, SKIPPED }

    public ConformanceCase(String name, String suite, Status status, String reason, double maxAbsError,
                           double maxRelError, boolean inScope, List<String> ops, long millis) {
        this(name, suite, status, reason, maxAbsError, maxRelError, inScope, ops, millis, null, null, null, null);
    }

    public ConformanceCase withRoundTrips(Status roundTrip, String roundTripReason, Status lowered, String loweredReason) {
        return new ConformanceCase(name, suite, status, reason, maxAbsError, maxRelError, inScope, ops, millis,
                roundTrip, roundTripReason, lowered, loweredReason);
    }
}
