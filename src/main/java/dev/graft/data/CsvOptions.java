package dev.graft.data;

import java.util.List;
import java.util.Map;

/**
 * Which CSV columns are inputs (empty: every column that is not a label column) and which hold each head's
 * labels (one column for a class head; one per label or value otherwise).
 */
public record CsvOptions(List<String> inputColumns, Map<String, List<String>> labelColumns) {
    public CsvOptions {
        inputColumns = inputColumns == null ? List.of() : List.copyOf(inputColumns);
        labelColumns = Map.copyOf(labelColumns);
    }
}
