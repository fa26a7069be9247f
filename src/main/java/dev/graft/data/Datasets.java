package dev.graft.data;

import dev.graft.GraftException;
import dev.graft.TensorInfo;
import dev.graft.io.Npy;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Loads training data into memory (graft's datasets are the small task-B sets of transfer learning) and
 * checks it against the model and the heads: every problem is reported with the file and the row (1-based,
 * as a user counts) or column.
 */
public final class Datasets {

    private Datasets() {
    }

    /**
     * A dataset folder of .npy files: {@code x.npy} for a single-input model, or {@code x_<input>.npy} per named
     * input; {@code y_<head>.npy} per head: class indices [n] (-1 missing) for CLASSES, floats [n, size] (NaN
     * missing) for MULTI_LABEL and VALUES.
     */
    public static Dataset npyDirectory(Path dir, List<TensorInfo> modelInputs, List<HeadLabels> heads) {
        if (!Files.isDirectory(dir)) throw new GraftException(dir + ": no such dataset folder");
        Set<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.toString().endsWith(".npy")).forEach(p -> files.add(p.getFileName().toString()));
        } catch (IOException e) {
            throw new GraftException(dir + ": cannot list: " + e.getMessage(), e);
        }
        Map<String, INDArray> inputs = new LinkedHashMap<>();
        for (TensorInfo in : modelInputs) {
            String name = modelInputs.size() == 1 && files.contains("x.npy") ? "x.npy" : "x_" + in.name() + ".npy";
            if (!files.contains(name)) {
                throw new GraftException(dir + ": no " + (modelInputs.size() == 1 ? "x.npy (or " + name + ")" : name)
                        + " for model input '" + in.name() + "'; the folder has " + files);
            }
            Path f = dir.resolve(name);
            INDArray x = Npy.read(f);
            checkInput(f, x, in);
            inputs.put(in.name(), x.dataType() == in.dataType() || in.dataType() == null ? x : x.castTo(in.dataType()));
        }
        long rows = inputs.values().iterator().next().size(0);
        for (Map.Entry<String, INDArray> e : inputs.entrySet()) {
            if (e.getValue().size(0) != rows) {
                throw new GraftException(dir + ": input files have different row counts (" + e.getKey() + ": "
                        + e.getValue().size(0) + ", expected " + rows + ")");
            }
        }
        Set<String> headFiles = new TreeSet<>();
        for (String f : files) if (f.startsWith("y_")) headFiles.add(f.substring(2, f.length() - 4));
        for (String h : headFiles) {
            if (heads.stream().noneMatch(x -> x.name().equals(h))) {
                throw new GraftException(dir.resolve("y_" + h + ".npy") + ": no head named '" + h + "' (heads: "
                        + heads.stream().map(HeadLabels::name).toList() + ")");
            }
        }
        Map<String, INDArray> labels = new LinkedHashMap<>();
        for (HeadLabels h : heads) {
            Path f = dir.resolve("y_" + h.name() + ".npy");
            if (!Files.exists(f)) {
                throw new GraftException(dir + ": no y_" + h.name() + ".npy for head '" + h.name() + "'; the folder has " + files);
            }
            labels.put(h.name(), checkLabels(f, Npy.read(f), h, rows));
        }
        return Dataset.of(inputs, labels);
    }

    static void checkInput(Path f, INDArray x, TensorInfo in) {
        long[] shape = in.shape();
        if (shape != null) {
            long[] actual = x.shape();
            boolean fits = actual.length == shape.length;
            for (int d = 1; fits && d < shape.length; d++) fits = shape[d] < 0 || shape[d] == actual[d];
            if (!fits) {
                throw new GraftException(f + ": shape " + Arrays.toString(actual) + " does not fit model input '" + in.name()
                        + "' " + in.shapeText() + " (rows first)");
            }
        }
        if (x.dataType().isFPType()) {
            long per = x.length() / Math.max(1, x.size(0));
            double[] v = x.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            for (int i = 0; i < v.length; i++) {
                if (!Double.isFinite(v[i])) {
                    throw new GraftException(f + ": row " + (i / per + 1) + " holds " + v[i] + "; inputs must be finite numbers");
                }
            }
        }
    }

    static INDArray checkLabels(Path f, INDArray y, HeadLabels h, long rows) {
        if (y.size(0) != rows) {
            throw new GraftException(f + ": " + y.size(0) + " rows, the inputs have " + rows);
        }
        if (h.kind() == LabelKind.CLASSES) {
            if (y.rank() != 1 && !(y.rank() == 2 && y.size(1) == 1)) {
                throw new GraftException(f + ": class labels are one index per row ([n]), got " + Arrays.toString(y.shape()));
            }
            double[] v = y.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            for (int i = 0; i < v.length; i++) {
                if (v[i] != Math.rint(v[i]) || v[i] < -1 || v[i] >= h.size()) {
                    throw new GraftException(f + ": row " + (i + 1) + " has label " + v[i] + "; head '" + h.name() + "' takes class "
                            + "indices 0.." + (h.size() - 1) + ", or -1 for a missing label");
                }
            }
            return y.reshape(rows).castTo(DataType.LONG);
        }
        if (y.rank() == 1 && h.size() == 1) y = y.reshape(rows, 1);
        if (y.rank() != 2 || y.size(1) != h.size()) {
            throw new GraftException(f + ": head '" + h.name() + "' needs [n, " + h.size() + "] labels, got " + Arrays.toString(y.shape()));
        }
        if (h.kind() == LabelKind.MULTI_LABEL) {
            double[] v = y.castTo(DataType.DOUBLE).dup('c').data().asDouble();
            for (int i = 0; i < v.length; i++) {
                if (!Double.isNaN(v[i]) && v[i] != 0 && v[i] != 1) {
                    throw new GraftException(f + ": row " + (i / h.size() + 1) + ", label " + (i % h.size()) + " is " + v[i]
                            + "; multi-label targets are 0 or 1 (NaN for missing)");
                }
            }
        }
        return y.castTo(DataType.FLOAT);
    }

    /**
     * Image folders: one subfolder per class, their sorted names giving class indices 0, 1, ...; images are
     * resized (bilinear) to the options' size, scaled to [0, 1], then normalised per channel with mean and std.
     */
    public static Dataset imageFolders(Path dir, ImageOptions o, String inputName, HeadLabels head) {
        if (!Files.isDirectory(dir)) throw new GraftException(dir + ": no such image folder");
        List<Path> classes;
        try (Stream<Path> s = Files.list(dir)) {
            classes = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new GraftException(dir + ": cannot list: " + e.getMessage(), e);
        }
        if (classes.isEmpty()) throw new GraftException(dir + ": no class subfolders (one folder of images per class)");
        if (head.kind() != LabelKind.CLASSES || classes.size() > head.size()) {
            throw new GraftException(dir + ": " + classes.size() + " class folders for head '" + head.name() + "' of size " + head.size());
        }
        List<float[]> images = new ArrayList<>();
        List<Long> labels = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            List<Path> files;
            try (Stream<Path> s = Files.list(classes.get(c))) {
                files = s.filter(p -> o.extensions().contains(ext(p))).sorted().toList();
            } catch (IOException e) {
                throw new GraftException(classes.get(c) + ": cannot list: " + e.getMessage(), e);
            }
            if (files.isEmpty()) throw new GraftException(classes.get(c) + ": no image (" + o.extensions() + ") in this class folder");
            for (Path f : files) {
                images.add(pixels(f, o));
                labels.add((long) c);
            }
        }
        int n = images.size();
        int per = o.channels() * o.height() * o.width();
        float[] all = new float[n * per];
        for (int i = 0; i < n; i++) System.arraycopy(images.get(i), 0, all, i * per, per);
        long[] shape = o.channelsFirst() ? new long[]{n, o.channels(), o.height(), o.width()} : new long[]{n, o.height(), o.width(), o.channels()};
        return Dataset.of(Map.of(inputName, Nd4j.create(all, shape, 'c')),
                Map.of(head.name(), Nd4j.createFromArray(labels.stream().mapToLong(Long::longValue).toArray())));
    }

    private static String ext(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    private static float[] pixels(Path f, ImageOptions o) {
        BufferedImage src;
        try {
            src = ImageIO.read(f.toFile());
        } catch (IOException e) {
            throw new GraftException(f + ": cannot read the image: " + e.getMessage(), e);
        }
        if (src == null) throw new GraftException(f + ": not an image ImageIO can decode");
        BufferedImage img = new BufferedImage(o.width(), o.height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(src, 0, 0, o.width(), o.height(), null);
        g.dispose();
        float[] out = new float[o.channels() * o.height() * o.width()];
        for (int y = 0; y < o.height(); y++) {
            for (int x = 0; x < o.width(); x++) {
                int rgb = img.getRGB(x, y);
                float[] c = {((rgb >> 16) & 0xff) / 255f, ((rgb >> 8) & 0xff) / 255f, (rgb & 0xff) / 255f};
                if (o.channels() == 1) c = new float[]{0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2]};
                else if (o.bgr()) c = new float[]{c[2], c[1], c[0]};
                for (int k = 0; k < o.channels(); k++) {
                    float v = (c[k] - o.mean()[k]) / o.std()[k];
                    int idx = o.channelsFirst() ? (k * o.height() + y) * o.width() + x : (y * o.width() + x) * o.channels() + k;
                    out[idx] = v;
                }
            }
        }
        return out;
    }

    /**
     * A CSV file with a header row. Input columns: the named ones, or all that are not label columns.
     * Labels: for a CLASSES head one integer column (empty or ? = missing); for MULTI_LABEL and VALUES heads
     * {@code size} columns (empty or ? = missing, as the seed's multi-task example writes unknown labels).
     */
    public static Dataset csv(Path file, CsvOptions o, String inputName, List<HeadLabels> heads) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new GraftException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (lines.size() < 2) throw new GraftException(file + ": needs a header row and at least one data row");
        List<String> header = Arrays.stream(lines.get(0).split(",", -1)).map(String::trim).toList();
        Map<String, List<Integer>> labelCols = new LinkedHashMap<>();
        Set<Integer> used = new TreeSet<>();
        for (HeadLabels h : heads) {
            List<String> cols = o.labelColumns().get(h.name());
            if (cols == null) throw new GraftException(file + ": no label columns given for head '" + h.name() + "' (csv.labels." + h.name() + ")");
            int expected = h.kind() == LabelKind.CLASSES ? 1 : h.size();
            if (cols.size() != expected) {
                throw new GraftException(file + ": head '" + h.name() + "' needs " + expected + " label column(s), got " + cols);
            }
            List<Integer> idx = new ArrayList<>();
            for (String c : cols) idx.add(column(file, header, c));
            labelCols.put(h.name(), idx);
            used.addAll(idx);
        }
        List<Integer> inputCols = new ArrayList<>();
        if (o.inputColumns() == null || o.inputColumns().isEmpty()) {
            for (int i = 0; i < header.size(); i++) if (!used.contains(i)) inputCols.add(i);
        } else {
            for (String c : o.inputColumns()) inputCols.add(column(file, header, c));
        }
        int n = lines.size() - 1;
        float[] x = new float[n * inputCols.size()];
        Map<String, float[]> y = new LinkedHashMap<>();
        heads.forEach(h -> y.put(h.name(), new float[n * labelCols.get(h.name()).size()]));
        for (int r = 0; r < n; r++) {
            String[] cells = lines.get(r + 1).split(",", -1);
            int row = r + 2; // 1-based, after the header
            if (cells.length != header.size()) {
                throw new GraftException(file + ": row " + row + " has " + cells.length + " cells, the header has " + header.size());
            }
            for (int k = 0; k < inputCols.size(); k++) {
                int c = inputCols.get(k);
                x[r * inputCols.size() + k] = number(file, row, header.get(c), cells[c], false);
            }
            for (HeadLabels h : heads) {
                List<Integer> cols = labelCols.get(h.name());
                for (int k = 0; k < cols.size(); k++) {
                    float v = number(file, row, header.get(cols.get(k)), cells[cols.get(k)], true);
                    y.get(h.name())[r * cols.size() + k] = h.kind() == LabelKind.CLASSES && Float.isNaN(v) ? -1 : v;
                }
            }
        }
        Map<String, INDArray> labels = new LinkedHashMap<>();
        for (HeadLabels h : heads) {
            INDArray raw = Nd4j.create(y.get(h.name()), new long[]{n, labelCols.get(h.name()).size()}, 'c');
            labels.put(h.name(), checkLabels(file, h.kind() == LabelKind.CLASSES ? raw.reshape(n) : raw, h, n));
        }
        return Dataset.of(Map.of(inputName, Nd4j.create(x, new long[]{n, inputCols.size()}, 'c')), labels);
    }

    private static int column(Path file, List<String> header, String name) {
        int i = header.indexOf(name);
        if (i < 0) throw new GraftException(file + ": no column '" + name + "' (columns: " + header + ")");
        return i;
    }

    private static float number(Path file, int row, String column, String cell, boolean missingAllowed) {
        String t = cell.trim();
        if (t.isEmpty() || t.equals("?")) {
            if (missingAllowed) return Float.NaN;
            throw new GraftException(file + ": row " + row + ", column '" + column + "' is empty; inputs cannot be missing");
        }
        try {
            float v = Float.parseFloat(t);
            if (!missingAllowed && !Float.isFinite(v)) {
                throw new GraftException(file + ": row " + row + ", column '" + column + "' holds " + t + "; inputs must be finite");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new GraftException(file + ": row " + row + ", column '" + column + "': '" + t + "' is not a number");
        }
    }
}
