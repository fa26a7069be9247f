package dev.graft.train.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.GraftException;
import dev.graft.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The history of a run, one row per epoch, and the {@code metrics.json} file that holds it.
 *
 * <h2>Format</h2>
 * <pre>{@code
 * {
 *   "history" : [
 *     {"epoch": 1, "train_loss": 0.91, "val_loss": 0.95,
 *      "digit_accuracy": 0.71, "digit_macro_f1": 0.69, "val_digit_accuracy": 0.70, "val_digit_macro_f1": null,
 *      "tags_accuracy": 0.8, "tags_f1": 0.6, "tags_label0_accuracy": 0.9, "tags_label0_f1": 0.7, ...},
 *     {"epoch": 2, ...}
 *   ],
 *   ... optional extra top-level fields ({@link #put})
 * }
 * }</pre>
 * Keys of a row:
 * <ul>
 *   <li>{@code epoch}: the 1-based epoch number (an integer; required);</li>
 *   <li>{@code train_loss}: the mean training loss over the epoch's examples (the weighted sum of the heads'
 *       losses); {@code val_loss}: the same on the validation set, absent when there is none;</li>
 *   <li>{@code <head>_<metric>}: a training metric of head {@code <head>}, {@code val_<head>_<metric>} the
 *       same on the validation set ({@link #key}, {@link #valKey}). Metrics are those of
 *       {@link HeadMetrics}: {@code accuracy}, {@code macro_f1} (softmax); {@code accuracy}, {@code f1},
 *       {@code label<i>_accuracy}, {@code label<i>_f1} (sigmoid); {@code mae} (linear).</li>
 * </ul>
 * JSON has no NaN: a value that is NaN or infinite (a metric with no label present) is written as
 * {@code null}, and {@code null} is read back as {@link Double#NaN}. Integers are read back as
 * {@link Integer} (or {@link Long} when they do not fit), other numbers as {@link Double}, so a history of
 * Integer epochs and Double values reads back equal to the one written. The file is written atomically.
 */
public final class MetricsLog {

    public static final String EPOCH = "epoch";
    public static final String TRAIN_LOSS = "train_loss";
    public static final String VAL_LOSS = "val_loss";
    public static final String VAL_PREFIX = "val_";
    /** The top-level field holding the rows. */
    public static final String HISTORY = "history";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final List<Map<String, Object>> history = new ArrayList<>();
    private final Map<String, Object> extras = new LinkedHashMap<>();

    /** The key of training metric {@code metric} of head {@code head}: {@code <head>_<metric>}. */
    public static String key(String head, String metric) {
        return head + "_" + metric;
    }

    /** The key of validation metric {@code metric} of head {@code head}: {@code val_<head>_<metric>}. */
    public static String valKey(String head, String metric) {
        return VAL_PREFIX + key(head, metric);
    }

    /**
     * Appends one epoch's row (copied). It needs an integer {@code "epoch"}; values are numbers, strings,
     * booleans or null (null is kept as NaN).
     */
    public void add(Map<String, Object> epochRow) {
        history.add(checkedRow(epochRow, "row " + (history.size() + 1)));
    }

    /** The rows so far, in order; read-only. */
    public List<Map<String, Object>> history() {
        return Collections.unmodifiableList(history);
    }

    /**
     * Sets an extra top-level field of metrics.json (e.g. {@code "best_epoch"}, a settings summary). Values
     * are numbers, strings, booleans, null, lists and string-keyed maps of these. {@code "history"} is the
     * rows' field and cannot be set.
     */
    public void put(String field, Object value) {
        if (field == null || field.equals(HISTORY)) {
            throw new GraftException("metrics.json: the top-level field '" + field + "' is reserved or missing");
        }
        toJson(value, field); // rejects values JSON cannot hold, naming the field
        extras.put(field, value);
    }

    /** The extra top-level fields, in the order set or read; read-only. */
    public Map<String, Object> extras() {
        return Collections.unmodifiableMap(extras);
    }

    /** Writes {@code {"history": [...], <extras>}} to {@code metricsJson} atomically. */
    public void write(Path metricsJson) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode rows = root.putArray(HISTORY);
        for (Map<String, Object> r : history) rows.add(toJson(r, HISTORY));
        extras.forEach((k, v) -> root.set(k, toJson(v, k)));
        try {
            AtomicFiles.write(metricsJson, JSON.writeValueAsBytes(root));
        } catch (JsonProcessingException e) {
            throw new GraftException(metricsJson + ": cannot write: " + e.getOriginalMessage(), e);
        }
    }

    /** Reads a metrics.json written by {@link #write} (or by hand in the same format). */
    public static MetricsLog read(Path metricsJson) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(metricsJson));
        } catch (NoSuchFileException e) {
            throw new GraftException(metricsJson + ": no such file", e);
        } catch (JsonProcessingException e) {
            throw new GraftException(metricsJson + ": not valid JSON (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + "): " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new GraftException(metricsJson + ": cannot read: " + e, e);
        }
        if (root == null || !root.isObject()) throw new GraftException(metricsJson + ": expected a JSON object with a \"history\" list");
        JsonNode rows = root.get(HISTORY);
        if (rows == null || !rows.isArray()) throw new GraftException(metricsJson + ": no \"history\" list");
        MetricsLog log = new MetricsLog();
        for (int i = 0; i < rows.size(); i++) {
            JsonNode r = rows.get(i);
            String where = metricsJson + ": history[" + i + "]";
            if (!r.isObject()) throw new GraftException(where + " is not an object but " + r.getNodeType());
            Map<String, Object> row = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = r.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                if (v.isContainerNode()) throw new GraftException(where + ", key '" + e.getKey() + "': expected a number, found " + v.getNodeType());
                row.put(e.getKey(), fromJson(v));
            }
            log.history.add(checkedRow(row, where));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals(HISTORY)) log.extras.put(e.getKey(), fromJson(e.getValue()));
        }
        return log;
    }

    private static Map<String, Object> checkedRow(Map<String, Object> row, String where) {
        if (row == null) throw new GraftException("metrics: " + where + " is null");
        Object epoch = row.get(EPOCH);
        if (!(epoch instanceof Number e) || e.doubleValue() != Math.rint(e.doubleValue()) || e.doubleValue() < 0) {
            throw new GraftException("metrics: " + where + ": key 'epoch' must be a whole number, found " + epoch);
        }
        Map<String, Object> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Object> en : row.entrySet()) {
            String k = en.getKey();
            Object v = en.getValue();
            if (k == null) throw new GraftException("metrics: " + where + ": a null key");
            if (k.equals(EPOCH)) {
                long n = ((Number) v).longValue();
                v = n <= Integer.MAX_VALUE ? (Object) (int) n : (Object) n;
            } else if (v == null) {
                v = Double.NaN;
            } else if (!(v instanceof Number || v instanceof String || v instanceof Boolean)) {
                throw new GraftException("metrics: " + where + ", key '" + k + "': expected a number, found "
                        + v.getClass().getSimpleName());
            }
            copy.put(k, v);
        }
        return Collections.unmodifiableMap(copy);
    }

    private static JsonNode toJson(Object v, String field) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (v == null) return f.nullNode();
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) return f.numberNode(((Number) v).longValue());
        if (v instanceof Number n) return Double.isFinite(n.doubleValue()) ? f.numberNode(n.doubleValue()) : f.nullNode();
        if (v instanceof String s) return f.textNode(s);
        if (v instanceof Boolean b) return f.booleanNode(b);
        if (v instanceof Map<?, ?> m) {
            ObjectNode o = f.objectNode();
            m.forEach((k, x) -> {
                if (!(k instanceof String ks)) throw new GraftException("metrics.json: field '" + field + "': a non-string key " + k);
                o.set(ks, toJson(x, field + "." + ks));
            });
            return o;
        }
        if (v instanceof List<?> l) {
            ArrayNode a = f.arrayNode();
            for (int i = 0; i < l.size(); i++) a.add(toJson(l.get(i), field + "[" + i + "]"));
            return a;
        }
        throw new GraftException("metrics.json: field '" + field + "': cannot write a " + v.getClass().getSimpleName() + " as JSON");
    }

    private static Object fromJson(JsonNode v) {
        if (v.isNull()) return Double.NaN;
        if (v.isInt()) return v.intValue();
        if (v.isIntegralNumber() && v.canConvertToLong()) return v.longValue();
        if (v.isNumber()) return v.doubleValue();
        if (v.isBoolean()) return v.booleanValue();
        if (v.isTextual()) return v.textValue();
        if (v.isArray()) {
            List<Object> l = new ArrayList<>();
            v.forEach(x -> l.add(fromJson(x)));
            return l;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        v.fields().forEachRemaining(e -> m.put(e.getKey(), fromJson(e.getValue())));
        return m;
    }
}
