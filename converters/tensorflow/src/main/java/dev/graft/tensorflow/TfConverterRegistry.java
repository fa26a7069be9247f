package dev.graft.tensorflow;

import dev.graft.tensorflow.ops.TfActivationOps;
import dev.graft.tensorflow.ops.TfArrayOps;
import dev.graft.tensorflow.ops.TfImageOps;
import dev.graft.tensorflow.ops.TfMathOps;
import dev.graft.tensorflow.ops.TfNnOps;
import dev.graft.tensorflow.ops.TfReduceOps;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * TensorFlow op type -> importer, filled from an explicit list of families. TensorFlow versions ops by name
 * (FusedBatchNorm, FusedBatchNormV2, V3), so the op type alone is the key; registering one twice fails.
 */
public final class TfConverterRegistry {
    private static final List<TfOpFamily> STANDARD_FAMILIES = List.of(
            new TfMathOps(), new TfActivationOps(), new TfNnOps(), new TfReduceOps(), new TfArrayOps(), new TfImageOps());
    private static volatile TfConverterRegistry standard;

    private final Map<String, TfNodeImporter> importers;
    private final Map<String, String> families;

    private TfConverterRegistry(Builder b) {
        this.importers = Collections.unmodifiableMap(b.importers);
        this.families = Collections.unmodifiableMap(b.families);
    }

    /** The family that imports this op ("TfNnOps"), "graph" for inputs, constants and variables, or "none". */
    public String familyOf(String op) {
        if (java.util.Set.of("Placeholder", "PlaceholderWithDefault", "Const", "VariableV2", "VarHandleOp", "ReadVariableOp",
                "Identity", "IdentityN", "StopGradient", "NoOp", "Switch", "Merge", "StatefulPartitionedCall", "PartitionedCall").contains(op)) {
            return "graph (inputs, weights, identities, calls and constant branches)";
        }
        return families.getOrDefault(op, "none");
    }

    public static TfConverterRegistry standard() {
        if (standard == null) {
            synchronized (TfConverterRegistry.class) {
                if (standard == null) {
                    Builder b = new Builder();
                    for (TfOpFamily f : STANDARD_FAMILIES) {
                        b.family = f.getClass().getSimpleName();
                        f.register(b);
                    }
                    standard = new TfConverterRegistry(b);
                }
            }
        }
        return standard;
    }

    public Optional<TfNodeImporter> importer(String op) {
        return Optional.ofNullable(importers.get(op));
    }

    /** Every op type with an importer, sorted (for documentation and `graft inspect`). */
    public List<String> supportedOps() {
        return List.copyOf(importers.keySet());
    }

    public static final class Builder {
        private final Map<String, TfNodeImporter> importers = new TreeMap<>();
        private final Map<String, String> families = new TreeMap<>();
        private String family = "";

        public Builder importer(String op, TfNodeImporter importer) {
            if (importers.put(op, importer) != null) throw new IllegalStateException("TensorFlow op " + op + " registered twice");
            families.put(op, family);
            return this;
        }
    }
}
