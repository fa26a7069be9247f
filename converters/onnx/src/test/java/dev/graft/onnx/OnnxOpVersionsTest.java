package dev.graft.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * Facts from ONNX's docs/Operators.md and docs/Changelog.md (ONNX 1.16, opset 21), written out by hand
 * rather than computed: e.g. Operators.md lists Pad as "21, 19, 18, 13, 11, 2, 1", Squeeze as
 * "21, 13, 11, 1", ReduceMean as "18, 13, 11, 1", Conv as "11, 1", Relu as "14, 13, 6, 1", Gelu as "20".
 */
class OnnxOpVersionsTest {

    @Test
    void sinceIsTheNewestVersionNotAboveTheOpset() {
        assertEquals(OptionalInt.of(13), OnnxOpVersions.since("Squeeze", 17));
        assertEquals(OptionalInt.of(21), OnnxOpVersions.since("Squeeze", 21));
        assertEquals(OptionalInt.of(11), OnnxOpVersions.since("Squeeze", 12));
        assertEquals(OptionalInt.of(13), OnnxOpVersions.since("ReduceMean", 17));
        assertEquals(OptionalInt.of(18), OnnxOpVersions.since("ReduceMean", 18));
        assertEquals(OptionalInt.of(18), OnnxOpVersions.since("ReduceMean", 21));
        assertEquals(OptionalInt.of(13), OnnxOpVersions.since("ReduceSum", 21)); // axes input since 13
        assertEquals(OptionalInt.of(20), OnnxOpVersions.since("ReduceMax", 20));
        assertEquals(OptionalInt.of(21), OnnxOpVersions.since("Pad", 21));
        assertEquals(OptionalInt.of(19), OnnxOpVersions.since("Pad", 20));
        assertEquals(OptionalInt.of(18), OnnxOpVersions.since("Pad", 18));
        assertEquals(OptionalInt.of(2), OnnxOpVersions.since("Pad", 10));
        assertEquals(OptionalInt.of(11), OnnxOpVersions.since("Conv", 17));
        assertEquals(OptionalInt.of(11), OnnxOpVersions.since("Conv", 21));
        assertEquals(OptionalInt.of(1), OnnxOpVersions.since("Conv", 1));
        assertEquals(OptionalInt.of(14), OnnxOpVersions.since("Relu", 21));
        assertEquals(OptionalInt.of(19), OnnxOpVersions.since("Resize", 21));
        assertEquals(OptionalInt.of(18), OnnxOpVersions.since("Split", 21));
        assertEquals(OptionalInt.of(21), OnnxOpVersions.since("Cast", 21));
        assertEquals(OptionalInt.of(19), OnnxOpVersions.since("Cast", 20));
        assertEquals(OptionalInt.of(20), OnnxOpVersions.since("ConstantOfShape", 20));
        assertEquals(OptionalInt.of(9), OnnxOpVersions.since("ConstantOfShape", 19));
        assertEquals(OptionalInt.of(21), OnnxOpVersions.since("GroupNormalization", 21));
        assertEquals(OptionalInt.of(18), OnnxOpVersions.since("GroupNormalization", 20));
        assertEquals(OptionalInt.of(17), OnnxOpVersions.since("LayerNormalization", 21));
    }

    @Test
    void emptyBeforeTheOpExistsOrForUnknownOps() {
        assertTrue(OnnxOpVersions.since("Gelu", 19).isEmpty());
        assertEquals(OptionalInt.of(20), OnnxOpVersions.since("Gelu", 20));
        assertTrue(OnnxOpVersions.since("Mish", 17).isEmpty());
        assertEquals(OptionalInt.of(18), OnnxOpVersions.since("Mish", 18));
        assertTrue(OnnxOpVersions.since("Resize", 9).isEmpty());
        assertTrue(OnnxOpVersions.since("NoSuchOp", 21).isEmpty());
        assertTrue(OnnxOpVersions.since(null, 21).isEmpty());
        assertFalse(OnnxOpVersions.known("NoSuchOp"));
        assertFalse(OnnxOpVersions.known("relu")); // op types are case-sensitive
        assertTrue(OnnxOpVersions.known("Relu"));
        assertTrue(OnnxOpVersions.known("BitwiseAnd"));
        assertTrue(OnnxOpVersions.known("DeformConv"));
        assertTrue(OnnxOpVersions.known("StringSplit"));
    }

    @Test
    void sameSchemaIffTheSameVersionIsInForce() {
        assertTrue(OnnxOpVersions.sameSchema("Relu", 14, 21));
        assertFalse(OnnxOpVersions.sameSchema("Relu", 13, 14));
        assertFalse(OnnxOpVersions.sameSchema("Squeeze", 11, 13));
        assertTrue(OnnxOpVersions.sameSchema("Squeeze", 13, 20));
        assertFalse(OnnxOpVersions.sameSchema("Squeeze", 20, 21));
        assertTrue(OnnxOpVersions.sameSchema("Conv", 11, 21));
        assertTrue(OnnxOpVersions.sameSchema("Conv", 21, 11)); // symmetric
        assertFalse(OnnxOpVersions.sameSchema("ReduceMean", 17, 18));
        assertTrue(OnnxOpVersions.sameSchema("ReduceSum", 13, 21));
        assertTrue(OnnxOpVersions.sameSchema("Gelu", 20, 21));
        assertFalse(OnnxOpVersions.sameSchema("Gelu", 19, 20));
        assertFalse(OnnxOpVersions.sameSchema("Gelu", 19, 19)); // absent at both: not "the same"
        assertFalse(OnnxOpVersions.sameSchema("NoSuchOp", 21, 21));
    }

    @Test
    void coversOpsetTwentyOne() {
        assertEquals(21, OnnxOpVersions.maxOpset());
    }

    /** Facts from onnx's version_converter (convert.h) and the operator docs, not from the table. */
    @Test
    void typeOnlyUpgradesKeepTheNode() {
        assertTrue(OnnxOpVersions.writableAt("Relu", 13, 17, 1));               // Relu-14 added types only
        assertTrue(OnnxOpVersions.writableAt("Conv", 11, 21, 1));               // Conv unchanged 11..21
        assertTrue(OnnxOpVersions.writableAt("BatchNormalization", 13, 17, 1)); // 14 (inference), 15 (types)
        assertFalse(OnnxOpVersions.writableAt("BatchNormalization", 13, 17, 3)); // training outputs changed at 14
        assertFalse(OnnxOpVersions.writableAt("Squeeze", 11, 17, 1));           // axes became an input at 13
        assertFalse(OnnxOpVersions.writableAt("Softmax", 11, 13, 1));           // axis semantics changed at 13
        assertFalse(OnnxOpVersions.writableAt("ReduceMean", 13, 18, 1));        // axes became an input at 18
        assertFalse(OnnxOpVersions.writableAt("Relu", 17, 13, 1));              // downgrades need the same schema
        assertTrue(OnnxOpVersions.writableAt("Reshape", 14, 21, 1));            // 19 and 21 added types only
    }
}
