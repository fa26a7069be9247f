package dev.graft.surgery;

import java.lang.reflect.Field;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.memory.NoOpMemoryMgr;

/** What graft must do around SameDiff 1.0.0-M2.1's caches when it changes a graph or trains one. */
public final class SameDiffState {

    private SameDiffState() {
    }

    private static volatile boolean bound;

    /**
     * ND4J 1.0.0-M2.1 reuses cached arrays across calls of one inference session: from the second
     * {@code calculateGradients} call on a graph, gradients come out wrong (measured: off by up to 0.1 on an
     * MLP, while the first call equals a hand-computed gradient). Sessions without the array cache are
     * exact and about as fast. Called before graft computes anything.
     */
    public static void useExactSessions() {
        if (bound) return;
        synchronized (SameDiffState.class) {
            if (bound) return;
            SameDiff.bindInferenceFactory(sd -> {
                InferenceSession s = new InferenceSession(sd);
                s.setMmgr(new NoOpMemoryMgr());
                return s;
            });
            bound = true;
        }
    }

    /**
     * Drops the sessions and the gradient function SameDiff derived from the graph before it changed (ops
     * added or removed): they would otherwise run the old graph. M2.1 exposes no call for it.
     */
    public static void reset(SameDiff sd) {
        try {
            Field sessions = SameDiff.class.getDeclaredField("sessions");
            sessions.setAccessible(true);
            ((Map<?, ?>) sessions.get(sd)).clear();
            Field functions = SameDiff.class.getDeclaredField("sameDiffFunctionInstances");
            functions.setAccessible(true);
            Map<?, ?> f = (Map<?, ?>) functions.get(sd);
            if (f != null) f.remove("grad");
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("SameDiff internals changed (graft targets ND4J 1.0.0-M2.1): " + e, e);
        }
    }

    /**
     * Builds the graph's gradient function now. ND4J 1.0.0-M2.1 prints a line per differentiated op on
     * standard output while doing so (an unconditional System.out.println); graft's output stays clean.
     */
    public static synchronized void createGradientFunction(SameDiff sd) {
        java.io.PrintStream out = System.out;
        System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        try {
            sd.createGradFunction();
        } finally {
            System.setOut(out);
        }
    }
}
