package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What every op family's test checks: each in-scope backend case that uses one of the family's ops passes
 * (SameDiff output vs the suite's reference outputs) and survives the round trip through the exporter with
 * every op spelled out (ONNX Runtime output vs the same references), except known failures listed with their reason;
 * a listed case that passes again fails the test too, so the list stays true.
 */
abstract class OpFamilyTest {

    /** The op types of the family. */
    abstract Set<String> ops();

    /** Backend cases that fail today, with the reason; none at present. */
    Map<String, String> knownFailures() {
        return Map.of();
    }

    /** Backend cases that import but do not survive the op-by-op round trip today, with the reason. */
    Map<String, String> knownRoundTripFailures() {
        return Map.of();
    }

    @Test
    void backendCasesPass() {
        assertEquals(List.of(), BackendSuite.check(ops(), knownFailures()));
    }

    /** Import, export with every SameDiff op spelled out by its exporter, run in ONNX Runtime: same outputs. */
    @Test
    void backendCasesSurviveTheRoundTrip() {
        assertEquals(List.of(), BackendSuite.checkLowered(ops(), knownRoundTripFailures()));
    }
}
