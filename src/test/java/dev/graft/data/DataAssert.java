package dev.graft.data;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.GraftException;
import org.junit.jupiter.api.function.Executable;

final class DataAssert {
    private DataAssert() {
    }

    /** The call fails with a GraftException whose message holds every given part. */
    static GraftException assertFails(Executable call, String... parts) {
        GraftException e = assertThrows(GraftException.class, call);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
        return e;
    }
}
