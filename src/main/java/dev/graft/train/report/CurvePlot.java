package dev.graft.train.report;

import dev.graft.GraftException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import dev.graft.io.AtomicFiles;

/**
 * The learning curves of a run as a PNG, drawn with java.awt (headless): one panel for the losses, one
 * per metric (train solid, validation dashed), epochs on x.
 */
public final class CurvePlot {

    private static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
            new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75)};

    private CurvePlot() {
    }

    public static void write(MetricsLog log, Path png, String title) {
        System.setProperty("java.awt.headless", "true");
        // Panels: "loss", then each metric name without the val_ prefix, in the order they appear.
        Map<String, List<String>> panels = new LinkedHashMap<>();
        panels.put("loss", new ArrayList<>());
        for (Map<String, Object> row : log.history()) {
            for (String k : row.keySet()) {
                if (k.equals("epoch") || !(row.get(k) instanceof Number)) continue;
                String base = k.startsWith("val_") ? k.substring(4) : k;
                String panel = base.endsWith("loss") ? "loss" : base;
                if (panel.matches(".*_label\\d+_(accuracy|f1)")) continue; // per-label detail stays in metrics.json
                List<String> series = panels.computeIfAbsent(panel, p -> new ArrayList<>());
                if (!series.contains(k)) series.add(k);
            }
        }
        int cols = Math.min(3, panels.size());
        int rows = (panels.size() + cols - 1) / cols;
        int pw = 420;
        int ph = 300;
        BufferedImage img = new BufferedImage(cols * pw, rows * ph + 40, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, 12, 26);
        int i = 0;
        for (Map.Entry<String, List<String>> p : panels.entrySet()) {
            panel(g, log, p.getKey(), p.getValue(), (i % cols) * pw, 40 + (i / cols) * ph, pw, ph);
            i++;
        }
        g.dispose();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", bytes);
        } catch (IOException e) {
            throw new GraftException(png + ": cannot encode the plot: " + e.getMessage(), e);
        }
        AtomicFiles.write(png, bytes.toByteArray());
    }

    private static void panel(Graphics2D g, MetricsLog log, String name, List<String> series, int x0, int y0, int w, int h) {
        int left = x0 + 56;
        int right = x0 + w - 14;
        int top = y0 + 28;
        int bottom = y0 + h - 44;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        int epochs = log.history().size();
        for (Map<String, Object> row : log.history()) {
            for (String s : series) {
                Object v = row.get(s);
                if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
                    min = Math.min(min, n.doubleValue());
                    max = Math.max(max, n.doubleValue());
                }
            }
        }
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(name, x0 + 12, y0 + 18);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawLine(left, bottom, right, bottom);
        g.drawLine(left, top, left, bottom);
        g.drawString("epoch", (left + right) / 2 - 14, bottom + 30);
        if (!Double.isFinite(min)) {
            g.drawString("no data", left + 10, (top + bottom) / 2);
            return;
        }
        if (max - min < 1e-12) {
            max = min + 1;
        }
        g.drawString(String.format("%.3g", max), x0 + 4, top + 4);
        g.drawString(String.format("%.3g", min), x0 + 4, bottom);
        for (int e = 1; e <= epochs; e++) {
            int x = xOf(e, epochs, left, right);
            if (epochs <= 20 || e % Math.max(1, epochs / 10) == 0) g.drawString(Integer.toString(e), x - 3, bottom + 14);
        }
        int k = 0;
        for (String s : series) {
            g.setColor(COLORS[k % COLORS.length]);
            g.setStroke(s.startsWith("val_") ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[]{6f, 4f}, 0f) : new BasicStroke(2f));
            int px = -1;
            int py = -1;
            for (int e = 0; e < epochs; e++) {
                Object v = log.history().get(e).get(s);
                if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
                    px = -1;
                    continue;
                }
                int x = xOf(e + 1, epochs, left, right);
                int y = (int) Math.round(bottom - (n.doubleValue() - min) / (max - min) * (bottom - top));
                if (px >= 0) g.drawLine(px, py, x, y);
                g.fillOval(x - 2, y - 2, 5, 5);
                px = x;
                py = y;
            }
            g.setStroke(new BasicStroke(1f));
            g.drawString(s, right - 150, top + 12 + 13 * k);
            k++;
        }
    }

    private static int xOf(int epoch, int epochs, int left, int right) {
        return epochs <= 1 ? (left + right) / 2 : left + (int) Math.round((epoch - 1) / (double) (epochs - 1) * (right - left - 10)) + 5;
    }
}
