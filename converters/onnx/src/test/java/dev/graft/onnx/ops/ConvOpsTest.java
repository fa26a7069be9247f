package dev.graft.onnx.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Conv family against the ONNX backend suite (SameDiff output vs the suite's reference outputs). */
class ConvOpsTest extends OpFamilyTest {

    @Override
    Set<String> ops() {
        return Set.of("Conv", "ConvTranspose");
    }

    /** Imported weights stay trainable: SameDiff's gradients match finite differences. */
    @Test
    void gradientsMatchFiniteDifferences() {
        assertEquals(List.of(), GradientCheck.check(Set.of("Conv", "ConvTranspose")));
    }
}
