package dev.graft.train.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The learning curves of a run as a PNG, drawn with java.awt in headless mode (no display needed).
 *
 * <p>Layout: a title line, then panels in a grid of up to {@link #COLUMNS} columns, each
 * {@link #PANEL_WIDTH} x {@link #PANEL_HEIGHT} pixels; the image is {@code min(COLUMNS, panels) *
 * PANEL_WIDTH} wide and {@code TITLE_HEIGHT + rows * PANEL_HEIGHT} high. The first panel holds the losses
 * (every key ending in {@code loss}: {@code train_loss}, {@code val_loss}); then one panel per metric family
 * {@code <head>_<metric>} in the order the keys first appear, holding its training curve (solid) and its
 * validation curve {@code val_<head>_<metric>} (dashed). Per-label metrics of sigmoid heads
 * ({@code <head>_label<i>_...}) are not drawn (they stay in metrics.json). Each panel has the epoch on x,
 * the metric on y (labelled, with ticks and grid lines), and a legend. NaN values leave a gap.
 */
public final class CurvePlot {

    public static final int PANEL_WIDTH = 420;
    public static final int PANEL_HEIGHT = 300;
    public static final int TITLE_HEIGHT = 40;
    public static final int COLUMNS = 3;

    private static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
            new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75)};
    private static final Stroke SOLID = new BasicStroke(2f);
    private static final Stroke DASHED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f);

    static {
        // Before any AWT class initialises: drawing must work without a display. An explicit setting wins.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private CurvePlot() {
    }

    /** Draws {@code log}'s curves under {@code title} and writes them to {@code png} atomically. */
    public static void write(MetricsLog log, Path png, String title) {
        dev.graft.io.Png.write(render(log, title), png);
    }

    /** The panels: name to the keys drawn in it, in order ("loss" first). */
    static Map<String, List<String>> panels(MetricsLog log) {
        Map<String, List<String>> panels = new LinkedHashMap<>();
        panels.put("loss", new ArrayList<>());
        for (Map<String, Object> row : log.history()) {
            for (Map.Entry<String, Object> e : row.entrySet()) {
                String k = e.getKey();
                if (k.equals(MetricsLog.EPOCH) || !(e.getValue() instanceof Number)) continue;
                String base = k.startsWith(MetricsLog.VAL_PREFIX) ? k.substring(MetricsLog.VAL_PREFIX.length()) : k;
                if (base.matches(".*_label\\d+_[a-z0-9_]+")) continue;
                String panel = base.endsWith("loss") ? "loss" : base;
                List<String> series = panels.computeIfAbsent(panel, p -> new ArrayList<>());
                if (!series.contains(k)) series.add(k);
            }
        }
        return panels;
    }

    static BufferedImage render(MetricsLog log, String title) {
        Map<String, List<String>> panels = panels(log);
        int cols = Math.min(COLUMNS, panels.size());
        int rows = (panels.size() + cols - 1) / cols;
        BufferedImage img = new BufferedImage(cols * PANEL_WIDTH, TITLE_HEIGHT + rows * PANEL_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = dev.graft.io.Png.canvas(img);
        try {
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(title == null ? "" : title, 12, 26);
            int i = 0;
            for (Map.Entry<String, List<String>> p : panels.entrySet()) {
                panel(g, log, p.getKey(), p.getValue(), (i % cols) * PANEL_WIDTH, TITLE_HEIGHT + (i / cols) * PANEL_HEIGHT);
                i++;
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private static void panel(Graphics2D g, MetricsLog log, String name, List<String> series, int x0, int y0) {
        int left = x0 + 70;
        int right = x0 + PANEL_WIDTH - 16;
        int top = y0 + 28;
        int bottom = y0 + PANEL_HEIGHT - 66;
        List<Map<String, Object>> history = log.history();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Map<String, Object> row : history) {
            for (String s : series) {
                double v = value(row, s);
                if (Double.isFinite(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        Font plain = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(name.replace('_', ' '), x0 + 12, y0 + 18);
        g.setFont(plain);
        FontMetrics fm = g.getFontMetrics();
        // axis labels: epoch under x, the metric turned on its side left of y
        g.drawString("epoch", (left + right - fm.stringWidth("epoch")) / 2, bottom + 32);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2, x0 + 14, (top + bottom) / 2.0);
        g.drawString(name, x0 + 14 - fm.stringWidth(name) / 2, (top + bottom) / 2 + 4);
        g.setTransform(saved);
        if (!Double.isFinite(min)) {
            g.drawRect(left, top, right - left, bottom - top);
            g.drawString("no data", (left + right - fm.stringWidth("no data")) / 2, (top + bottom) / 2);
            return;
        }
        if (max - min < 1e-12 * Math.max(1, Math.abs(max))) {
            double pad = Math.max(Math.abs(max) * 0.05, 0.5);
            min -= pad;
            max += pad;
        }
        // y ticks at "nice" steps
        double step = niceStep((max - min) / 5);
        double lo = Math.floor(min / step) * step;
        double hi = Math.ceil(max / step) * step;
        min = lo;
        max = hi;
        int decimals = (int) Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
        for (double t = lo; t <= hi + step / 2; t += step) {
            String label = String.format("%." + decimals + "f", Math.abs(t) < step * 1e-6 ? 0.0 : t);
            dev.graft.io.Png.yTick(g, yOf(t, min, max, top, bottom), left, right, label, 6);
        }
        int epochs = history.size();
        int every = Math.max(1, (int) Math.ceil(epochs / 10.0));
        for (int e = 0; e < epochs; e++) {
            int x = xOf(e, epochs, left, right);
            g.drawLine(x, bottom, x, bottom + 4);
            if (e % every == 0 || e == epochs - 1) {
                double epoch = value(history.get(e), MetricsLog.EPOCH);
                String label = String.valueOf(Double.isFinite(epoch) ? (long) epoch : e + 1);
                g.drawString(label, x - fm.stringWidth(label) / 2, bottom + 17);
            }
        }
        g.drawLine(left, bottom, right, bottom);
        g.drawLine(left, top, left, bottom);
        // curves; the same colour for a metric's train and val curve in a metric panel
        int k = 0;
        List<String> legend = new ArrayList<>();
        List<Color> legendColor = new ArrayList<>();
        for (String s : series) {
            boolean val = s.startsWith(MetricsLog.VAL_PREFIX);
            Color c = COLORS[(name.equals("loss") ? k : (val ? 1 : 0)) % COLORS.length];
            g.setColor(c);
            g.setStroke(val ? DASHED : SOLID);
            int px = -1;
            int py = -1;
            for (int e = 0; e < epochs; e++) {
                double v = value(history.get(e), s);
                if (!Double.isFinite(v)) {
                    px = -1;
                    continue;
                }
                int x = xOf(e, epochs, left, right);
                int y = yOf(v, min, max, top, bottom);
                if (px >= 0) g.drawLine(px, py, x, y);
                g.fillOval(x - 2, y - 2, 5, 5);
                px = x;
                py = y;
            }
            legend.add(name.equals("loss") ? s : (val ? "validation" : "train"));
            legendColor.add(c);
            k++;
        }
        g.setStroke(new BasicStroke(1f));
        // legend below the x axis, one entry after the other: a line sample in the curve's style, then its name
        int lx = left;
        int ly = bottom + 50;
        for (int i = 0; i < legend.size(); i++) {
            boolean val = series.get(i).startsWith(MetricsLog.VAL_PREFIX);
            int width = 26 + fm.stringWidth(legend.get(i)) + 16;
            if (lx + width > right && lx > left) {
                lx = left;
                ly += 13;
            }
            g.setColor(legendColor.get(i));
            g.setStroke(val ? DASHED : SOLID);
            g.drawLine(lx, ly - 4, lx + 20, ly - 4);
            g.setStroke(new BasicStroke(1f));
            g.setColor(Color.BLACK);
            g.drawString(legend.get(i), lx + 26, ly);
            lx += width;
        }
    }

    private static double value(Map<String, Object> row, String key) {
        return row.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** 1, 2 or 5 times a power of ten, at least {@code raw}. */
    static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[]{1, 2, 5, 10}) if (m * p >= raw * (1 - 1e-9)) return m * p;
        return 10 * p;
    }

    private static int xOf(int index, int epochs, int left, int right) {
        return epochs <= 1 ? (left + right) / 2 : left + 8 + (int) Math.round(index / (double) (epochs - 1) * (right - left - 16));
    }

    private static int yOf(double v, double min, double max, int top, int bottom) {
        return (int) Math.round(bottom - (v - min) / (max - min) * (bottom - top));
    }
}
