package dev.graft.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.graft.GraftException;
import dev.graft.cli.CliRun;
import dev.graft.io.Npy;
import dev.graft.onnx.OnnxModelReader;
import dev.graft.train.FineTuneTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The job file contract of issue #4: keys, outputs of a run, and clear errors. */
class FinetuneJobTest {

    @TempDir
    Path dir;

    /** A two-head job on the ResNet fixture, with train and validation .npy folders. */
    Path writeJob(String extra) throws Exception {
        for (String part : new String[]{"train", "val"}) {
            Map<String, INDArray[]> d = FineTuneTest.quadrants(part.equals("train") ? 96 : 32, part.hashCode());
            Path p = dir.resolve("data").resolve(part);
            Files.createDirectories(p);
            Npy.write(d.get("x")[0], p.resolve("x.npy"));
            INDArray cls = d.get("cls")[0].dup();
            INDArray ch = d.get("channels")[0].dup();
            Random r = new Random(3);
            for (int i = 0; i < cls.length(); i++) {
                if (r.nextInt(4) == 0) cls.putScalar(i, -1);
                if (r.nextInt(4) == 0) ch.putScalar(i, r.nextInt(3), Double.NaN);
            }
            Npy.write(cls, p.resolve("y_colour.npy"));
            Npy.write(ch, p.resolve("y_channels.npy"));
        }
        Path job = dir.resolve("job.yaml");
        Files.writeString(job, """
                source: %s
                cut: auto
                freeze: all
                heads:
                  - name: colour
                    from: auto
                    layers: [32]
                    activation: relu
                    dropout: 0.1
                    output: softmax
                    size: 4
                    loss_weight: 1.0
                  - name: channels
                    layers: []
                    output: sigmoid
                    size: 3
                    loss_weight: 0.5
                data:
                  train: data/train
                  validation: data/val
                train: {epochs: 4, batch_size: 32, optimizer: adam, learning_rate: 0.01, seed: 7}
                export: {onnx: out/model.onnx, verify: true}
                %s""".formatted(FineTuneTest.RESNET.toAbsolutePath(), extra));
        return job;
    }

    @Test
    void aJobWritesMetricsCurvesCheckpointsAndAVerifiedExport() throws Exception {
        Path job = writeJob("");
        Path run = dir.resolve("run");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        FinetuneJob.Summary s = FinetuneJob.run(JobFile.read(job), run, false, new PrintStream(log, true), true);
        assertEquals("/Flatten_output_0", s.cutTensor());
        assertTrue(s.exportVerified(), s.exportMaxAbsError().toString());
        JsonNode metrics = new ObjectMapper().readTree(run.resolve("metrics.json").toFile());
        assertEquals(4, metrics.get("history").size());
        JsonNode first = metrics.get("history").get(0);
        for (String k : new String[]{"epoch", "train_loss", "val_loss", "colour_accuracy", "colour_macro_f1", "channels_accuracy",
                "channels_f1", "val_colour_accuracy", "val_channels_f1"}) {
            assertTrue(first.has(k), k + " in " + first);
        }
        assertNotNull(ImageIO.read(run.resolve("curves.png").toFile()));
        assertTrue(Files.isDirectory(run.resolve("checkpoints").resolve("epoch-0004")));
        assertTrue(Files.isDirectory(run.resolve("checkpoints").resolve("best")));
        var model = OnnxModelReader.of(dir.resolve("out").resolve("model.onnx")).read();
        assertEquals(java.util.List.of("colour", "channels"), model.getGraph().getOutputList().stream().map(o -> o.getName()).toList());
        assertTrue(model.getMetadataPropsList().stream().anyMatch(p -> p.getKey().equals("graft.training") && p.getValue().contains("\"epochs_run\":4")));
        assertTrue(log.toString().contains("cut auto: at '/Flatten_output_0'"), log.toString());
    }

    @Test
    void theCommandLineRunsAJob() throws Exception {
        Path job = writeJob("");
        CliRun r = CliRun.of("finetune", job.toString(), "--output-dir", dir.resolve("cli-run").toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(dir.resolve("cli-run").resolve("metrics.json")));
    }

    @Test
    void badJobFilesNameTheKey() throws Exception {
        Path job = writeJob("");
        String text = Files.readString(job);
        Files.writeString(job, text.replace("output: softmax", "output: softmx"));
        GraftException e = assertThrows(GraftException.class, () -> JobFile.read(job));
        assertTrue(e.getMessage().contains("job.yaml: heads[0].output") && e.getMessage().contains("softmax, sigmoid, linear"), e.getMessage());

        Files.writeString(job, text.replace("freeze: all", "freeze: all\nfreez: none"));
        e = assertThrows(GraftException.class, () -> JobFile.read(job));
        assertTrue(e.getMessage().contains("unknown key freez"), e.getMessage());

        Files.writeString(job, text.replace("  validation: data/val", "  validation: data/val\n  split: 0.1"));
        e = assertThrows(GraftException.class, () -> JobFile.read(job));
        assertTrue(e.getMessage().contains("validation or split"), e.getMessage());

        Files.writeString(job, text.replace("seed: 7}", "seed: 7, executor: fast}"));
        e = assertThrows(GraftException.class, () -> JobFile.read(job));
        assertTrue(e.getMessage().contains("job.yaml: train.executor: 'fast' is not one of fixed, samediff"), e.getMessage());

        Files.writeString(job, text.replace("size: 4", "size: four"));
        e = assertThrows(GraftException.class, () -> JobFile.read(job));
        assertTrue(e.getMessage().contains("heads[0].size") && e.getMessage().contains("'four' is not a number"), e.getMessage());
    }

    @Test
    void badDataNamesTheFileAndRow() throws Exception {
        Path job = writeJob("");
        INDArray y = Npy.read(dir.resolve("data/train/y_colour.npy"));
        y.putScalar(5, 7);
        Npy.write(y, dir.resolve("data/train/y_colour.npy"));
        Path run = dir.resolve("run");
        GraftException e = assertThrows(GraftException.class,
                () -> FinetuneJob.run(JobFile.read(job), run, false, new PrintStream(java.io.OutputStream.nullOutputStream()), true));
        assertTrue(e.getMessage().contains("y_colour.npy: row 6 has label 7.0"), e.getMessage());
        assertTrue(!Files.exists(run.resolve("metrics.json")), "nothing written for a job that cannot start");
    }

    @Test
    void theCommandLineRefusesBadJobFilesWithExitCode2() throws Exception {
        CliRun missing = CliRun.of("finetune", dir.resolve("absent.yaml").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("absent.yaml: no such job file"), missing.err());
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, "source: [unclosed\n");
        CliRun yaml = CliRun.of("finetune", broken.toString());
        assertEquals(2, yaml.code());
        assertTrue(yaml.err().contains("broken.yaml: not valid YAML"), yaml.err());
        Files.writeString(broken, "source: x.onnx\nheads: []\n");
        CliRun heads = CliRun.of("finetune", broken.toString());
        assertEquals(2, heads.code());
        assertTrue(heads.err().contains("heads: give a list of at least one head"), heads.err());
    }
}
