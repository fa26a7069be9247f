package dev.graft.job;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.GraftException;
import dev.graft.data.CsvOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The job file's data.csv block: {inputs: [columns] (default: all but labels), labels: {head: column or [columns]}}. */
final class CsvJobOptions {

    private CsvJobOptions() {
    }

    static CsvOptions parse(JsonNode n, Path job) {
        String f = job.getFileName().toString();
        if (n == null || !n.isObject() || !n.has("labels")) {
            throw new GraftException(f + ": data.csv: give labels: {<head>: <column> or [<columns>]} for a CSV file");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("inputs") && !k.equals("labels")) throw new GraftException(f + ": unknown key data.csv." + k + " (allowed: inputs, labels)");
        }
        List<String> inputs = new ArrayList<>();
        if (n.has("inputs")) n.get("inputs").forEach(c -> inputs.add(c.asText()));
        Map<String, List<String>> labels = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.get("labels").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            List<String> cols = new ArrayList<>();
            if (e.getValue().isArray()) e.getValue().forEach(c -> cols.add(c.asText()));
            else cols.add(e.getValue().asText());
            labels.put(e.getKey(), cols);
        }
        return new CsvOptions(inputs, labels);
    }
}
