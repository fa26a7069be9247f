package dev.graft.onnx;

import dev.graft.onnx.ops.ActivationOps;
import dev.graft.onnx.ops.ComparisonOps;
import dev.graft.onnx.ops.ConvOps;
import dev.graft.onnx.ops.EinsumOps;
import dev.graft.onnx.ops.ElementwiseOps;
import dev.graft.onnx.ops.FillOps;
import dev.graft.onnx.ops.GatherOps;
import dev.graft.onnx.ops.GemmOps;
import dev.graft.onnx.ops.NormalizationOps;
import dev.graft.onnx.ops.PadOps;
import dev.graft.onnx.ops.PoolingOps;
import dev.graft.onnx.ops.ReduceOps;
import dev.graft.onnx.ops.ResizeOps;
import dev.graft.onnx.ops.ShapeOps;
import dev.graft.onnx.ops.SliceOps;
import dev.graft.onnx.ops.SpaceDepthOps;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Maps (domain, op type, since-version) to the converter for that op version. A model's node is served by
 * the highest since-version not above the model's opset for the node's domain, as ONNX versions ops.
 * Filled from an explicit list of families; registering the same key twice fails at start-up.
 */
public final class ConverterRegistry {

    /** The ONNX default domain; "ai.onnx" is its long spelling. */
    public static final String DEFAULT_DOMAIN = "";

    private static final List<OnnxOpFamily> STANDARD_FAMILIES = List.of(
            new ElementwiseOps(),
            new ActivationOps(),
            new ComparisonOps(),
            new GemmOps(),
            new ConvOps(),
            new PoolingOps(),
            new NormalizationOps(),
            new ReduceOps(),
            new ShapeOps(),
            new SliceOps(),
            new GatherOps(),
            new PadOps(),
            new FillOps(),
            new SpaceDepthOps(),
            new EinsumOps(),
            new ResizeOps());

    private static volatile ConverterRegistry standard;

    private record Key(String domain, String opType) {
    }

    private final Map<Key, NavigableMap<Integer, NodeImporter>> importers;
    private final Map<Key, String> families;
    private final Map<String, OpExporter> exporters;
    private final Map<String, String> exporterFamilies;

    private ConverterRegistry(Builder b) {
        this.importers = b.importers;
        this.families = b.families;
        this.exporters = b.exporters;
        this.exporterFamilies = b.exporterFamilies;
    }

    /** The export half for a SameDiff op type (its {@code opName()}, e.g. "conv2d"), if one is registered. */
    public Optional<OpExporter> exporter(String sameDiffOpName) {
        return Optional.ofNullable(exporters.get(sameDiffOpName));
    }

    /** The family that exports this SameDiff op type, e.g. "ConvOps", or null. */
    public String exporterFamily(String sameDiffOpName) {
        return exporterFamilies.get(sameDiffOpName);
    }

    /** Every SameDiff op type with an exporter, sorted. */
    public List<String> exportableOps() {
        List<String> ops = new ArrayList<>(exporters.keySet());
        Collections.sort(ops);
        return ops;
    }

    public static ConverterRegistry standard() {
        if (standard == null) {
            synchronized (ConverterRegistry.class) {
                if (standard == null) {
                    Builder b = new Builder();
                    for (OnnxOpFamily family : STANDARD_FAMILIES) {
                        b.family = family.getClass().getSimpleName();
                        family.register(b);
                    }
                    standard = b.build();
                }
            }
        }
        return standard;
    }

    public static String normalizeDomain(String domain) {
        return domain == null || domain.equals("ai.onnx") ? DEFAULT_DOMAIN : domain;
    }

    /** The importer for this op at this opset, if any version of it is registered at or below the opset. */
    public Optional<NodeImporter> importer(String domain, String opType, int opset) {
        NavigableMap<Integer, NodeImporter> versions = importers.get(new Key(normalizeDomain(domain), opType));
        if (versions == null) {
            return Optional.empty();
        }
        Map.Entry<Integer, NodeImporter> e = versions.floorEntry(opset);
        return e == null ? Optional.empty() : Optional.of(e.getValue());
    }

    /** The since-version of graft's importer serving this op at this opset, or -1 when none does. */
    public int importerSince(String domain, String opType, int opset) {
        NavigableMap<Integer, NodeImporter> versions = importers.get(new Key(normalizeDomain(domain), opType));
        Integer since = versions == null ? null : versions.floorKey(opset);
        return since == null ? -1 : since;
    }

    /**
     * Which converter serves this op at this opset, e.g. "ConvOps (Conv-11)": the family and the op version
     * whose semantics apply; empty when none does.
     */
    public Optional<String> converterFor(String domain, String opType, int opset) {
        Key key = new Key(normalizeDomain(domain), opType);
        NavigableMap<Integer, NodeImporter> versions = importers.get(key);
        Integer since = versions == null ? null : versions.floorKey(opset);
        return since == null ? Optional.empty() : Optional.of(families.get(key) + " (" + opType + "-" + since + ")");
    }

    /** Every op type with an importer in the default domain, sorted. */
    public List<String> supportedOps() {
        List<String> ops = new ArrayList<>();
        for (Key k : importers.keySet()) {
            ops.add(k.domain().isEmpty() ? k.opType() : k.domain() + "." + k.opType());
        }
        Collections.sort(ops);
        return ops;
    }

    /** Collects registrations and rejects duplicates. */
    public static final class Builder {
        private final Map<Key, NavigableMap<Integer, NodeImporter>> importers = new HashMap<>();
        private final Map<String, String> owners = new HashMap<>();
        private final Map<Key, String> families = new HashMap<>();
        private final Map<String, OpExporter> exporters = new HashMap<>();
        private final Map<String, String> exporterFamilies = new HashMap<>();
        private String family = "?";

        /**
         * Registers the export half for one SameDiff op type, named as {@code DifferentialFunction.opName()}
         * reports it ("conv2d", "add", "reduce_mean"); each type has one exporter, across all families.
         */
        public Builder exporter(String sameDiffOpName, OpExporter exporter) {
            if (exporters.containsKey(sameDiffOpName)) {
                throw new IllegalStateException("Duplicate exporter for SameDiff op '" + sameDiffOpName
                        + "': registered by " + exporterFamilies.get(sameDiffOpName) + " and " + family);
            }
            exporters.put(sameDiffOpName, exporter);
            exporterFamilies.put(sameDiffOpName, family);
            return this;
        }

        public Builder importer(String opType, int sinceVersion, NodeImporter importer) {
            return importer(DEFAULT_DOMAIN, opType, sinceVersion, importer);
        }

        public Builder importer(String domain, String opType, int sinceVersion, NodeImporter importer) {
            Key key = new Key(normalizeDomain(domain), opType);
            NavigableMap<Integer, NodeImporter> versions = importers.computeIfAbsent(key, k -> new TreeMap<>());
            String id = key + "@" + sinceVersion;
            if (versions.containsKey(sinceVersion)) {
                throw new IllegalStateException("Duplicate ONNX importer for " + opType + " since opset " + sinceVersion
                        + ": registered by " + owners.get(id) + " and " + family);
            }
            versions.put(sinceVersion, importer);
            owners.put(id, family);
            families.putIfAbsent(key, family);
            return this;
        }

        public ConverterRegistry build() {
            return new ConverterRegistry(this);
        }
    }
}
