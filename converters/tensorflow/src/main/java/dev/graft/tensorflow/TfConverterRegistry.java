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

    private TfConverterRegistry(Map<String, TfNodeImporter> importers) {
        this.importers = Collections.unmodifiableMap(importers);
    }

    public static TfConverterRegistry standard() {
        if (standard == null) {
            synchronized (TfConverterRegistry.class) {
                if (standard == null) {
                    Builder b = new Builder();
                    STANDARD_FAMILIES.forEach(f -> f.register(b));
                    standard = new TfConverterRegistry(b.importers);
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

        public Builder importer(String op, TfNodeImporter importer) {
            if (importers.put(op, importer) != null) throw new IllegalStateException("TensorFlow op " + op + " registered twice");
            return this;
        }
    }
}
