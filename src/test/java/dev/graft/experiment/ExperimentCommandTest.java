package dev.graft.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.cli.CliRun;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code graft experiment all --quick} end to end on the bundled digits (pool and test set one folder, split in
 * halves per digit), with tiny sizes and budgets: every output file is written, every cell is there, every
 * number is an accuracy.
 */
class ExperimentCommandTest {

    @Test
    void quickRunWritesEveryCellTablePlotAndLog(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("exp");
        CliRun r = CliRun.of("experiment", "all", "--quick", "--pool", "tests-resources/mnist", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("results.json", "results.csv", "summary.md", "transfer.png", "multitask.png", "run.log")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        JsonNode json = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertEquals("models/mnist04_cnn_torch.onnx", json.get("model").asText());
        assertEquals("tests-resources/mnist", json.get("pool").asText());
        assertTrue(json.get("command").asText().startsWith("graft experiment all --quick"), json.get("command").asText());
        // Quick plan: transfer 2 sizes x 5 modes; multi-task 1 size x 2 missing shares x (one net, separate nets); 1 seed.
        JsonNode cells = json.get("cells");
        assertEquals(2 * 5 + 2 * 2, cells.size());
        int transfer = 0;
        double bestAt20 = 0;
        for (JsonNode c : cells) {
            assertEquals(1, c.get("seed").asInt());
            assertTrue(c.get("seconds").asDouble() > 0);
            assertTrue(c.get("steps").asInt() > 0);
            JsonNode acc = c.get("test_accuracy");
            if (c.get("experiment").asText().equals("transfer")) {
                transfer++;
                assertEquals(List.of("digit"), names(acc));
                if (c.get("config").get("n_per_class").asInt() == 20) bestAt20 = Math.max(bestAt20, acc.get("digit").asDouble());
            } else {
                assertEquals(List.of("digit", "even", "greater_than_4"), names(acc));
            }
            acc.fields().forEachRemaining(e -> {
                double v = e.getValue().asDouble();
                assertTrue(v >= 0 && v <= 1, e.getKey() + " " + v);
            });
        }
        assertEquals(10, transfer);
        // 16 training examples per digit (20 less a fifth for validation): chance is 0.2 over five digits, and the
        // quick run measured ~0.9 for the unfrozen modes; 0.5 leaves room for other backends' rounding and seeds.
        assertTrue(bestAt20 > 0.5, "best transfer accuracy at n = 20: " + bestAt20);
        // CSV: one row per cell and head.
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(1 + 10 + 4 * 3, csv.size());
        assertTrue(csv.get(0).startsWith("experiment,n_per_class,mode,missing,setup,seed,head,test_accuracy"));
        // The tables: a row per mode with a value for each size, a row per (size, missing share); no empty cell.
        String md = Files.readString(out.resolve("summary.md"));
        for (String row : List.of("| head only (frozen trunk) |", "| last 1 unfrozen |", "| last 2 unfrozen |", "| all unfrozen |",
                "| scratch (re-initialised) |", "| 10 | 0 % |", "| 10 | 90 % |")) {
            assertTrue(md.contains(row), row + " in\n" + md);
        }
        assertFalse(md.contains("n/a"), md);
        for (String line : md.split("\n")) {
            if (line.startsWith("| ") && !line.startsWith("| mode") && !line.startsWith("| n per digit")) {
                for (String cell : line.substring(1, line.length() - 1).split("\\|")) assertFalse(cell.isBlank(), line);
            }
        }
        for (String png : List.of("transfer.png", "multitask.png")) {
            BufferedImage img = ImageIO.read(out.resolve(png).toFile());
            assertTrue(img.getWidth() >= 400 && img.getHeight() >= 300, png + " " + img.getWidth() + "x" + img.getHeight());
        }
        String log = Files.readString(out.resolve("run.log"));
        assertTrue(log.contains("first half is the pool"), log);
        assertTrue(log.contains("transfer  n=20   scratch"), log);
    }

    @Test
    void aMissingPoolNamesTheFolderAndTheScriptThatMakesIt(@TempDir Path tmp) {
        CliRun r = CliRun.of("experiment", "transfer", "--quick", "--pool", tmp.resolve("no-pool").toString(), "--out", tmp.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no-pool") && r.err().contains("models/scripts/make_mnist_pool.py"), r.err());
    }

    private static List<String> names(JsonNode n) {
        List<String> out = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
