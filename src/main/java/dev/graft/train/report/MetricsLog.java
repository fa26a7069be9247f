package dev.graft.train.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.graft.GraftException;
import dev.graft.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's history, one row per epoch: {@code {"history": [{"epoch": 1, "train_loss": ..., "val_loss": ...,
 * "<head>_<metric>": ..., "val_<head>_<metric>": ...}, ...]}}. JSON has no NaN: a metric without data
 * (a head with no label present) is written as null and read back as NaN.
 */
public final class MetricsLog {

    private final List<Map<String, Object>> history = new ArrayList<>();

    public void add(Map<String, Object> epochRow) {
        history.add(new LinkedHashMap<>(epochRow));
    }

    public List<Map<String, Object>> history() {
        return history;
    }

    public void write(Path metricsJson) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        ArrayNode rows = root.putArray("history");
        for (Map<String, Object> r : history) {
            ObjectNode o = rows.addObject();
            r.forEach((k, v) -> {
                if (v == null || v instanceof Double d && !Double.isFinite(d)) o.putNull(k);
                else if (v instanceof Integer i) o.put(k, i);
                else if (v instanceof Long l) o.put(k, l);
                else if (v instanceof Number n) o.put(k, n.doubleValue());
                else o.put(k, v.toString());
            });
        }
        try {
            AtomicFiles.write(metricsJson, json.writeValueAsBytes(root));
        } catch (IOException e) {
            throw new GraftException(metricsJson + ": cannot write: " + e.getMessage(), e);
        }
    }

    public static MetricsLog read(Path metricsJson) {
        MetricsLog log = new MetricsLog();
        try {
            JsonNode root = new ObjectMapper().readTree(metricsJson.toFile());
            JsonNode rows = root.get("history");
            if (rows == null || !rows.isArray()) throw new GraftException(metricsJson + ": no \"history\" list");
            for (JsonNode r : rows) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = r.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    JsonNode v = e.getValue();
                    row.put(e.getKey(), v.isNull() ? Double.NaN : v.isInt() ? (Object) v.asInt() : v.isNumber() ? v.asDouble() : v.asText());
                }
                log.add(row);
            }
        } catch (IOException e) {
            throw new GraftException(metricsJson + ": cannot read: " + e.getMessage(), e);
        }
        return log;
    }
}
