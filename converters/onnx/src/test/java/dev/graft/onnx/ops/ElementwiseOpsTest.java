package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.graft.onnx.BackendSuite;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Elementwise arithmetic (binary ops incl. the legacy broadcast/axis versions, unary math,
 * Max/Min/Sum/Mean) against the ONNX backend suite (SameDiff output vs the suite's reference outputs),
 * and graft's own cases.
 */
class ElementwiseOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Abs",
                "Neg", "Reciprocal", "Floor", "Ceil", "Erf", "Sin", "Cos", "Tanh", "Max", "Min", "Sum", "Mean");
    }

    /**
     * Cases ONNX Runtime cannot run or feed at all (the source model neither): no kernel for Max/Min of 8- and
     * 16-bit integers, and its Java API cannot make unsigned 16/32/64-bit tensors.
     */
    @Override
    Map<String, String> knownRoundTripFailures() {
        Map<String, String> m = new TreeMap<>();
        for (String op : List.of("max", "min")) {
            for (String t : List.of("int8", "int16", "uint8")) m.put("node/test_" + op + "_" + t, "ONNX Runtime has no " + op + " kernel for " + t);
            for (String t : List.of("uint16", "uint32", "uint64")) m.put("node/test_" + op + "_" + t, "ONNX Runtime's Java API cannot feed " + t);
        }
        m.put("node/test_pow_types_float32_uint32", "ONNX Runtime's Java API cannot feed uint32");
        m.put("node/test_pow_types_float32_uint64", "ONNX Runtime's Java API cannot feed uint64");
        return m;
    }

    /** graft's own cases for semantics the backend suite does not cover (tests-resources/scripts/make_onnx_cases_core.py). */
    @Test
    void graftCasesPass() {
        assertEquals(List.of(), BackendSuite.graftCaseProblems("elementwise"));
    }
}
