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
     * A dataset folder of .npy files, read whole into memory: {@code x.npy} for a single-input model (or
     * {@code x_<input>.npy}, not both), else {@code x_<input>.npy} per model input; {@code y_<head>.npy} per head:
     * class indices [n] (integers, -1 missing) for CLASSES, [n, size] numbers (NaN missing) for MULTI_LABEL
     * (0 or 1) and VALUES. Inputs are checked against the model's input shapes (the row dimension aside) and
     * must be finite; inputs are cast to the model input's type, labels to LONG (CLASSES) or FLOAT.
     */
    public static Dataset npyDirectory(Path dir, List<TensorInfo> modelInputs, List<HeadLabels> heads) {
        if (!Files.isDirectory(dir)) throw new GraftException(dir + ": no such dataset folder");
        if (modelInputs.isEmpty()) throw new GraftException(dir + ": the model has no inputs to load data for");
        Set<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.toString().endsWith(".npy")).forEach(p -> files.add(p.getFileName().toString()));
        } catch (IOException e) {
            throw new GraftException(dir + ": cannot list: " + e.getMessage(), e);
        }
        List<String> inputNames = modelInputs.stream().map(TensorInfo::name).toList();
        for (String f : files) {
            if (f.startsWith("x_") && !inputNames.contains(f.substring(2, f.length() - 4))) {
                throw new GraftException(dir.resolve(f) + ": no model input named '" + f.substring(2, f.length() - 4)
                        + "' (model inputs: " + inputNames + ")");
            }
        }
        boolean single = modelInputs.size() == 1;
        if (!single && files.contains("x.npy")) {
            throw new GraftException(dir.resolve("x.npy") + ": the model has " + modelInputs.size() + " inputs "
                    + inputNames + "; give one x_<input>.npy per input instead of x.npy");
        }
        if (single && files.contains("x.npy") && files.contains("x_" + inputNames.get(0) + ".npy")) {
            throw new GraftException(dir + ": both x.npy and x_" + inputNames.get(0) + ".npy are there; keep one");
        }
        Map<String, INDArray> inputs = new LinkedHashMap<>();
        Path firstFile = null;
        long rows = -1;
        for (TensorInfo in : modelInputs) {
            String name = single && files.contains("x.npy") ? "x.npy" : "x_" + in.name() + ".npy";
            if (!files.contains(name)) {
                throw new GraftException(dir + ": no " + (single ? "x.npy (or " + name + ")" : name)
                        + " for model input '" + in.name() + "'; the folder has " + files);
            }
            Path f = dir.resolve(name);
            INDArray x = Npy.read(f);
            if (x.rank() == 0) throw new GraftException(f + ": a scalar; inputs are arrays with one row per example");
            if (rows >= 0 && x.size(0) != rows) {
                throw new GraftException(f + ": " + x.size(0) + " rows, " + firstFile.getFileName() + " has " + rows);
            }
            if (rows < 0) {
                rows = x.size(0);
                firstFile = f;
            }
            checkInput(f, x, in);
            inputs.put(in.name(), in.dataType() == null || x.dataType() == in.dataType() ? x : x.castTo(in.dataType()));
        }
        List<String> headNames = heads.stream().map(HeadLabels::name).toList();
        for (String f : files) {
            if (f.startsWith("y_") && !headNames.contains(f.substring(2, f.length() - 4))) {
                throw new GraftException(dir.resolve(f) + ": no head named '" + f.substring(2, f.length() - 4) + "' (heads: "
                        + headNames + ")");
            }
        }
        Map<String, INDArray> labels = new LinkedHashMap<>();
        for (HeadLabels h : heads) {
            Path f = dir.resolve("y_" + h.name() + ".npy");
            if (!files.contains("y_" + h.name() + ".npy")) {
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
        if (y.rank() == 0) throw new GraftException(f + ": a scalar; labels have one row per example");
        if (y.size(0) != rows) {
            throw new GraftException(f + ": " + y.size(0) + " rows, the inputs have " + rows);
        }
        if (h.kind() == LabelKind.CLASSES) {
            if (y.rank() != 1 && !(y.rank() == 2 && y.size(1) == 1)) {
                throw new GraftException(f + ": head '" + h.name() + "' takes one class index per row ([n]), got "
                        + Arrays.toString(y.shape()));
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
        if (!y.dataType().isFPType() && h.kind() == LabelKind.VALUES) return y.castTo(DataType.FLOAT);
        double[] v = y.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        for (int i = 0; i < v.length; i++) {
            boolean bad = h.kind() == LabelKind.MULTI_LABEL ? !Double.isNaN(v[i]) && v[i] != 0 && v[i] != 1 : Double.isInfinite(v[i]);
            if (bad) {
                throw new GraftException(f + ": row " + (i / h.size() + 1) + ", " + (h.kind() == LabelKind.MULTI_LABEL ? "label " : "value ")
                        + (i % h.size()) + " is " + v[i] + "; " + (h.kind() == LabelKind.MULTI_LABEL
                        ? "multi-label targets are 0 or 1 (NaN for missing)" : "targets are finite numbers (NaN for missing)"));
            }
        }
        return y.castTo(DataType.FLOAT);
    }

    /**
     * The class names of an image-folder dataset: its subfolders (hidden ones, starting with '.', aside) in
     * sorted order, so that class i is {@code imageClasses(dir).get(i)}.
     */
    public static List<String> imageClasses(Path dir) {
        if (!Files.isDirectory(dir)) throw new GraftException(dir + ": no such image folder");
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .sorted().toList();
        } catch (IOException e) {
            throw new GraftException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    /**
     * Image folders, decoded whole into memory: one subfolder per class, their sorted names giving class
     * indices 0, 1, ... (see {@link #imageClasses}); in each, the files with one of the options' extensions
     * (other files are left out), in sorted order. Each image is resized (java.awt bilinear) to the options'
     * size, its pixels scaled to [0, 1], then normalised per channel as (v - mean[c]) / std[c]; see
     * {@link ImageOptions}. The input is FLOAT [n, c, h, w] (NCHW) or [n, h, w, c] (NHWC); the head's labels
     * are the class indices. Fewer class folders than the head's size is allowed (a validation set may lack a
     * class); more is an error.
     */
    public static Dataset imageFolders(Path dir, ImageOptions o, String inputName, HeadLabels head) {
        if (head.kind() != LabelKind.CLASSES) {
            throw new GraftException(dir + ": image folders give class labels, but head '" + head.name() + "' takes "
                    + head.kind() + "; use a softmax head");
        }
        List<String> names = imageClasses(dir);
        if (names.isEmpty()) throw new GraftException(dir + ": no class subfolders (one folder of images per class)");
        if (names.size() > head.size()) {
            throw new GraftException(dir + ": " + names.size() + " class folders " + names + ", but head '" + head.name()
                    + "' has " + head.size() + " classes");
        }
        List<float[]> images = new ArrayList<>();
        List<Long> labels = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) {
            Path folder = dir.resolve(names.get(c));
            List<Path> files;
            try (Stream<Path> s = Files.list(folder)) {
                files = s.filter(Files::isRegularFile).filter(p -> o.extensions().contains(ext(p))).sorted().toList();
            } catch (IOException e) {
                throw new GraftException(folder + ": cannot list: " + e.getMessage(), e);
            }
            if (files.isEmpty()) throw new GraftException(folder + ": empty class folder, no image with extension " + o.extensions());
            for (Path f : files) {
                images.add(pixels(f, o));
                labels.add((long) c);
            }
        }
        int n = images.size();
        int per = o.channels() * o.height() * o.width();
        float[] all = new float[Math.multiplyExact(n, per)];
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
        } catch (IOException | RuntimeException e) {
            throw new GraftException(f + ": cannot decode the image (" + e.getMessage() + ")", e);
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
     * A CSV file with a header row, read whole into memory; comma-separated, UTF-8 (a byte-order mark is
     * skipped), cells may be double-quoted (no line breaks inside a cell), blank lines are skipped. Input
     * columns: the ones named in the options, or every column that is not a label column; they become one
     * FLOAT input [n, columns] and must hold finite numbers. Labels: for a CLASSES head one integer column
     * (an empty cell, ?, NaN or -1 is a missing label, -1); for MULTI_LABEL (0 or 1) and VALUES heads {@code size}
     * columns (an empty cell, ? or NaN is missing, NaN; the seed's multi-task example writes unknown labels as ?).
     * Errors name the file, the row as a spreadsheet counts it (the header is row 1) and the column.
     */
    public static Dataset csv(Path file, CsvOptions o, String inputName, List<HeadLabels> heads) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new GraftException(file + ": cannot read: " + e.getMessage(), e);
        }
        int headerLine = 0;
        while (headerLine < lines.size() && lines.get(headerLine).isBlank()) headerLine++;
        if (headerLine == lines.size()) throw new GraftException(file + ": empty; a CSV needs a header row and data rows");
        String first = lines.get(headerLine);
        if (first.startsWith("\uFEFF")) first = first.substring(1);
        List<String> header = cells(file, headerLine + 1, first).stream().map(String::trim).toList();
        for (int i = 0; i < header.size(); i++) {
            if (header.get(i).isEmpty()) throw new GraftException(file + ": header column " + (i + 1) + " has no name");
            if (header.indexOf(header.get(i)) != i) throw new GraftException(file + ": header names column '" + header.get(i) + "' twice");
        }
        List<String> headNames = heads.stream().map(HeadLabels::name).toList();
        for (String k : new TreeSet<>(o.labelColumns().keySet())) {
            if (!headNames.contains(k)) throw new GraftException(file + ": label columns given for '" + k + "', which is no head (heads: " + headNames + ")");
        }
        Map<String, List<Integer>> labelCols = new LinkedHashMap<>();
        Map<Integer, String> labelOf = new LinkedHashMap<>();
        for (HeadLabels h : heads) {
            List<String> cols = o.labelColumns().get(h.name());
            if (cols == null) throw new GraftException(file + ": no label columns given for head '" + h.name() + "' (csv.labels." + h.name() + ")");
            int expected = h.kind() == LabelKind.CLASSES ? 1 : h.size();
            if (cols.size() != expected) {
                throw new GraftException(file + ": head '" + h.name() + "' needs " + expected + " label column(s), got " + cols);
            }
            List<Integer> idx = new ArrayList<>();
            for (String c : cols) {
                int i = column(file, header, c);
                String other = labelOf.put(i, h.name());
                if (other != null) throw new GraftException(file + ": column '" + c + "' is a label column of both head '" + other + "' and head '" + h.name() + "'");
                idx.add(i);
            }
            labelCols.put(h.name(), idx);
        }
        List<Integer> inputCols = new ArrayList<>();
        if (o.inputColumns().isEmpty()) {
            for (int i = 0; i < header.size(); i++) if (!labelOf.containsKey(i)) inputCols.add(i);
            if (inputCols.isEmpty()) throw new GraftException(file + ": every column is a label column; no input column is left");
        } else {
            for (String c : o.inputColumns()) {
                int i = column(file, header, c);
                if (labelOf.containsKey(i)) throw new GraftException(file + ": column '" + c + "' is both an input and a label column of head '" + labelOf.get(i) + "'");
                if (inputCols.contains(i)) throw new GraftException(file + ": input column '" + c + "' is named twice");
                inputCols.add(i);
            }
        }
        List<float[]> xs = new ArrayList<>();
        Map<String, List<float[]>> ys = new LinkedHashMap<>();
        heads.forEach(h -> ys.put(h.name(), new ArrayList<>()));
        for (int l = headerLine + 1; l < lines.size(); l++) {
            if (lines.get(l).isBlank()) continue;
            int row = l + 1; // as a spreadsheet counts: the header (on the first line) is row 1
            List<String> cells = cells(file, row, lines.get(l));
            if (cells.size() != header.size()) {
                throw new GraftException(file + ": row " + row + " has " + cells.size() + " cells, the header has " + header.size());
            }
            float[] x = new float[inputCols.size()];
            for (int k = 0; k < x.length; k++) {
                int c = inputCols.get(k);
                x[k] = number(file, row, header.get(c), cells.get(c), false);
            }
            xs.add(x);
            for (HeadLabels h : heads) {
                List<Integer> cols = labelCols.get(h.name());
                float[] y = new float[cols.size()];
                for (int k = 0; k < y.length; k++) {
                    String column = header.get(cols.get(k));
                    float v = number(file, row, column, cells.get(cols.get(k)), true);
                    y[k] = label(file, row, column, h, v);
                }
                ys.get(h.name()).add(y);
            }
        }
        int n = xs.size();
        if (n == 0) throw new GraftException(file + ": a header but no data rows");
        Map<String, INDArray> labels = new LinkedHashMap<>();
        for (HeadLabels h : heads) {
            float[][] y = ys.get(h.name()).toArray(new float[0][]);
            if (h.kind() == LabelKind.CLASSES) {
                long[] c = new long[n];
                for (int i = 0; i < n; i++) c[i] = (long) y[i][0];
                labels.put(h.name(), Nd4j.createFromArray(c));
            } else {
                labels.put(h.name(), Nd4j.createFromArray(y));
            }
        }
        return Dataset.of(Map.of(inputName, Nd4j.createFromArray(xs.toArray(new float[0][]))), labels);
    }

    /** A label cell checked against its head: CLASSES take -1 (missing) or 0..size-1, MULTI_LABEL 0, 1 or missing. */
    private static float label(Path file, int row, String column, HeadLabels h, float v) {
        String where = file + ": row " + row + ", column '" + column + "'";
        switch (h.kind()) {
            case CLASSES -> {
                if (Float.isNaN(v)) return -1;
                if (v != Math.rint(v) || v < -1 || v >= h.size()) {
                    throw new GraftException(where + " has label " + v + "; head '" + h.name() + "' takes class indices 0.."
                            + (h.size() - 1) + " (empty, ? or -1 for a missing label)");
                }
            }
            case MULTI_LABEL -> {
                if (!Float.isNaN(v) && v != 0 && v != 1) {
                    throw new GraftException(where + " is " + v + "; multi-label head '" + h.name() + "' takes 0 or 1 (empty or ? for missing)");
                }
            }
            case VALUES -> {
                if (Float.isInfinite(v)) throw new GraftException(where + " is " + v + "; targets are finite numbers (empty or ? for missing)");
            }
        }
        return v;
    }

    /** One CSV line split at commas outside double quotes; "" inside quotes is one quote. */
    private static List<String> cells(Path file, int row, String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    cell.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
            } else if (ch == ',') {
                out.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(ch);
            }
        }
        if (quoted) throw new GraftException(file + ": row " + row + " has an unclosed quote (cells cannot span lines)");
        out.add(cell.toString());
        return out;
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
            throw new GraftException(file + ": row " + row + ", column '" + column + "' is " + (t.isEmpty() ? "empty" : "?")
                    + "; inputs cannot be missing");
        }
        float v;
        try {
            v = switch (t.toLowerCase(Locale.ROOT)) { // the spellings pandas and numpy write, besides Java's
                case "nan", "-nan", "+nan" -> Float.NaN;
                case "inf", "+inf", "infinity", "+infinity" -> Float.POSITIVE_INFINITY;
                case "-inf", "-infinity" -> Float.NEGATIVE_INFINITY;
                default -> Float.parseFloat(t);
            };
        } catch (NumberFormatException e) {
            throw new GraftException(file + ": row " + row + ", column '" + column + "': '" + t + "' is not a number");
        }
        if (!missingAllowed && !Float.isFinite(v)) {
            throw new GraftException(file + ": row " + row + ", column '" + column + "' holds " + t + "; inputs must be finite");
        }
        return v;
    }
}
