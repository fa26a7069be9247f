package dev.graft.train.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.GraftException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {

    @TempDir
    Path dir;

    static MetricsLog sample() {
        MetricsLog log = new MetricsLog();
        for (int e = 1; e <= 3; e++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", e);
            row.put("train_loss", 1.0 / e);
            row.put("val_loss", 1.2 / e + 1e-17 * e);
            row.put(MetricsLog.key("digit", "accuracy"), 0.5 + e / 10.0);
            row.put(MetricsLog.valKey("digit", "accuracy"), e == 2 ? Double.NaN : 0.4 + e / 10.0);
            row.put("tags_label0_f1", Math.PI / e);
            log.add(row);
        }
        return log;
    }

    @Test
    void keyScheme() {
        assertEquals("digit_macro_f1", MetricsLog.key("digit", "macro_f1"));
        assertEquals("val_digit_macro_f1", MetricsLog.valKey("digit", "macro_f1"));
    }

    @Test
    void roundTripIsEqualAndNaNIsNull() throws Exception {
        MetricsLog log = sample();
        log.put("best_epoch", 3);
        log.put("settings", Map.of("optimizer", "adam", "learning_rate", 0.001));
        log.put("heads", List.of("digit", "tags"));
        Path json = dir.resolve("run/metrics.json");
        log.write(json);

        String text = Files.readString(json);
        // a strict JSON parser (Jackson's default rejects NaN tokens) reads it; the NaN is a null
        JsonNode tree = new ObjectMapper().readTree(text);
        assertTrue(tree.get("history").get(1).get("val_digit_accuracy").isNull(), text);
        assertEquals(1, tree.get("history").get(0).get("epoch").intValue());
        assertTrue(tree.get("history").get(0).get("epoch").isIntegralNumber(), "epoch is written as an integer");
        assertFalse(text.contains("NaN"), text);

        MetricsLog back = MetricsLog.read(json);
        assertEquals(log.history(), back.history()); // Double.equals: NaN equals NaN, other values bit for bit
        assertTrue(((Double) back.history().get(1).get("val_digit_accuracy")).isNaN());
        assertEquals(List.of("epoch", "train_loss", "val_loss", "digit_accuracy", "val_digit_accuracy", "tags_label0_f1"),
                List.copyOf(back.history().get(0).keySet()), "key order kept");
        assertEquals(log.extras(), back.extras());
    }

    @Test
    void otherNonFiniteValuesAreNullToo() throws Exception {
        MetricsLog log = new MetricsLog();
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("epoch", 1);
        row.put("a", Float.NaN);
        row.put("b", Double.POSITIVE_INFINITY);
        row.put("c", null);
        log.add(row);
        Path json = dir.resolve("metrics.json");
        log.write(json);
        JsonNode r = new ObjectMapper().readTree(json.toFile()).get("history").get(0);
        assertTrue(r.get("a").isNull() && r.get("b").isNull() && r.get("c").isNull(), r.toString());
        Map<String, Object> back = MetricsLog.read(json).history().get(0);
        for (String k : List.of("a", "b", "c")) assertTrue(((Double) back.get(k)).isNaN(), k + ": " + back);
    }

    @Test
    void readsAHandWrittenFile() throws Exception {
        Path json = dir.resolve("metrics.json");
        Files.writeString(json, "{\"history\": [{\"epoch\": 1, \"train_loss\": 0.5, \"val_digit_accuracy\": null},"
                + " {\"epoch\": 2, \"train_loss\": 0.25}], \"best_epoch\": 2}");
        MetricsLog log = MetricsLog.read(json);
        assertEquals(2, log.history().size());
        assertEquals(0.25, (Double) log.history().get(1).get("train_loss"));
        assertTrue(((Double) log.history().get(0).get("val_digit_accuracy")).isNaN());
        assertEquals(2, log.extras().get("best_epoch"));
    }

    @Test
    void writeReplacesAtomicallyLeavingNoTemporaryFile() throws Exception {
        Path json = dir.resolve("metrics.json");
        Files.writeString(json, "old");
        sample().write(json);
        assertEquals(3, MetricsLog.read(json).history().size());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(json), files.toList());
        }
    }

    @Test
    void historyIsReadOnly() {
        MetricsLog log = sample();
        assertThrows(UnsupportedOperationException.class, () -> log.history().clear());
        assertThrows(UnsupportedOperationException.class, () -> log.history().get(0).put("x", 1.0));
    }

    @Test
    void badRowsAndFilesAreNamed() throws Exception {
        MetricsLog log = new MetricsLog();
        GraftException e = assertThrows(GraftException.class, () -> log.add(Map.of("train_loss", 1.0)));
        assertTrue(e.getMessage().contains("'epoch'") && e.getMessage().contains("row 1"), e.getMessage());
        e = assertThrows(GraftException.class, () -> log.add(Map.of("epoch", 1, "weights", new double[]{1})));
        assertTrue(e.getMessage().contains("'weights'"), e.getMessage());
        e = assertThrows(GraftException.class, () -> log.put("history", 1));
        assertTrue(e.getMessage().contains("history"), e.getMessage());
        e = assertThrows(GraftException.class, () -> log.put("when", new Object()));
        assertTrue(e.getMessage().contains("'when'"), e.getMessage());

        Path missing = dir.resolve("none.json");
        e = assertThrows(GraftException.class, () -> MetricsLog.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());

        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"history\": [\n  {\"epoch\": 1,, }]}");
        e = assertThrows(GraftException.class, () -> MetricsLog.read(broken));
        assertTrue(e.getMessage().contains(broken.toString()) && e.getMessage().contains("line 2"), e.getMessage());

        Path noHistory = dir.resolve("nohistory.json");
        Files.writeString(noHistory, "{\"rows\": []}");
        e = assertThrows(GraftException.class, () -> MetricsLog.read(noHistory));
        assertTrue(e.getMessage().contains(noHistory.toString()) && e.getMessage().contains("history"), e.getMessage());

        Path badRow = dir.resolve("badrow.json");
        Files.writeString(badRow, "{\"history\": [{\"epoch\": 1}, 7]}");
        e = assertThrows(GraftException.class, () -> MetricsLog.read(badRow));
        assertTrue(e.getMessage().contains(badRow.toString()) && e.getMessage().contains("history[1]"), e.getMessage());

        Path badEpoch = dir.resolve("badepoch.json");
        Files.writeString(badEpoch, "{\"history\": [{\"epoch\": 1.5}]}");
        e = assertThrows(GraftException.class, () -> MetricsLog.read(badEpoch));
        assertTrue(e.getMessage().contains(badEpoch.toString()) && e.getMessage().contains("history[0]") && e.getMessage().contains("'epoch'"), e.getMessage());
    }
}
