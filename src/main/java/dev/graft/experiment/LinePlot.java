package dev.graft.experiment;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

/**
 * Mean curves with ± std error bars in panels side by side, drawn with java.awt in headless mode (as
 * {@link dev.graft.train.report.CurvePlot}). Each panel has its own title, x ticks at the given x values
 * (optionally on a log scale), y from the data rounded out to 0.05 steps; the legend sits in one row block
 * under all panels, so it never covers a curve.
 */
final class LinePlot {

    static final int PANEL_WIDTH = 430;
    static final int PANEL_HEIGHT = 360;
    static final int TITLE_HEIGHT = 44;

    static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
            new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75)};

    /** One point: x, mean, std (NaN: no bar). */
    record Point(double x, double mean, double std) {
    }

    record Series(String name, Color color, boolean dashed, List<Point> points) {
    }

    record Panel(String title, String xLabel, String yLabel, List<Double> xTicks, boolean logX, List<Series> series) {
    }

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private LinePlot() {
    }

    static void write(Path png, String title, List<Panel> panels) {
        dev.graft.io.Png.write(render(title, panels), png);
    }

    static BufferedImage render(String title, List<Panel> panels) {
        // The legend: every distinct series name of all panels, in order of first appearance.
        java.util.LinkedHashMap<String, Series> legend = new java.util.LinkedHashMap<>();
        for (Panel p : panels) for (Series s : p.series()) legend.putIfAbsent(s.name(), s);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        pg.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        // Wide enough for the title: a single panel is centred in the extra room.
        int titleWidth = pg.getFontMetrics().stringWidth(title) + 24;
        int width = Math.max(Math.max(1, panels.size()) * PANEL_WIDTH, titleWidth);
        int offset = (width - panels.size() * PANEL_WIDTH) / 2;
        pg.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics pfm = pg.getFontMetrics();
        int rows = 1;
        int lx = 20;
        for (String name : legend.keySet()) {
            int w = 34 + pfm.stringWidth(name) + 22;
            if (lx + w > width - 10 && lx > 20) {
                rows++;
                lx = 20;
            }
            lx += w;
        }
        pg.dispose();
        int legendHeight = 16 + rows * 18;
        BufferedImage img = new BufferedImage(width, TITLE_HEIGHT + PANEL_HEIGHT + legendHeight, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = dev.graft.io.Png.canvas(img);
        try {
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString(title, 12, 27);
            for (int i = 0; i < panels.size(); i++) panel(g, panels.get(i), offset + i * PANEL_WIDTH, TITLE_HEIGHT);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            FontMetrics fm = g.getFontMetrics();
            int x = 20;
            int y = TITLE_HEIGHT + PANEL_HEIGHT + 18;
            for (Series s : legend.values()) {
                int w = 34 + fm.stringWidth(s.name()) + 22;
                if (x + w > width - 10 && x > 20) {
                    x = 20;
                    y += 18;
                }
                g.setColor(s.color());
                g.setStroke(stroke(s.dashed()));
                g.drawLine(x, y - 4, x + 28, y - 4);
                g.fillOval(x + 11, y - 7, 6, 6);
                g.setStroke(new BasicStroke(1f));
                g.setColor(Color.BLACK);
                g.drawString(s.name(), x + 34, y);
                x += w;
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private static Stroke stroke(boolean dashed) {
        return dashed ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{7f, 4f}, 0f)
                : new BasicStroke(2f);
    }

    private static void panel(Graphics2D g, Panel p, int x0, int y0) {
        int left = x0 + 66;
        int right = x0 + PANEL_WIDTH - 20;
        int top = y0 + 30;
        int bottom = y0 + PANEL_HEIGHT - 48;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Series s : p.series()) {
            for (Point pt : s.points()) {
                if (!Double.isFinite(pt.mean())) continue;
                double sd = Double.isFinite(pt.std()) ? pt.std() : 0;
                min = Math.min(min, pt.mean() - sd);
                max = Math.max(max, pt.mean() + sd);
            }
        }
        if (!Double.isFinite(min)) {
            min = 0;
            max = 1;
        }
        double step = 0.05;
        while ((max - min) / step > 8) step *= 2;
        min = Math.max(0, Math.floor(min / step - 1e-9) * step);
        max = Math.min(1, Math.ceil(max / step + 1e-9) * step);
        if (max - min < step) max = Math.min(1, min + step);
        if (max - min < step) min = max - step;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(p.title(), x0 + 14, y0 + 18);
        Font plain = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
        g.setFont(plain);
        FontMetrics fm = g.getFontMetrics();
        for (double t = min; t <= max + step / 2; t += step) {
            dev.graft.io.Png.yTick(g, yOf(t, min, max, top, bottom), left, right, String.format(java.util.Locale.ROOT, "%.2f", t), 7);
        }
        double xMin = p.xTicks().stream().mapToDouble(Double::doubleValue).min().orElse(0);
        double xMax = p.xTicks().stream().mapToDouble(Double::doubleValue).max().orElse(1);
        for (double t : p.xTicks()) {
            int x = xOf(t, xMin, xMax, p.logX(), left, right);
            g.drawLine(x, bottom, x, bottom + 4);
            String label = t == Math.rint(t) ? Long.toString((long) t) : String.format(java.util.Locale.ROOT, "%.1f", t);
            g.drawString(label, x - fm.stringWidth(label) / 2, bottom + 17);
        }
        g.drawLine(left, bottom, right, bottom);
        g.drawLine(left, top, left, bottom);
        g.drawString(p.xLabel(), (left + right - fm.stringWidth(p.xLabel())) / 2, bottom + 34);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2, x0 + 16, (top + bottom) / 2.0);
        g.drawString(p.yLabel(), x0 + 16 - fm.stringWidth(p.yLabel()) / 2, (top + bottom) / 2 + 4);
        g.setTransform(saved);
        int k = 0;
        for (Series s : p.series()) {
            // A small horizontal offset per series keeps error bars at the same x apart.
            int dx = (k - (p.series().size() - 1) / 2) * 3;
            g.setColor(s.color());
            int px = Integer.MIN_VALUE;
            int py = 0;
            for (Point pt : s.points()) {
                if (!Double.isFinite(pt.mean())) {
                    px = Integer.MIN_VALUE;
                    continue;
                }
                int x = xOf(pt.x(), xMin, xMax, p.logX(), left, right) + dx;
                int y = yOf(pt.mean(), min, max, top, bottom);
                g.setStroke(stroke(s.dashed()));
                if (px != Integer.MIN_VALUE) g.drawLine(px, py, x, y);
                g.setStroke(new BasicStroke(1.3f));
                if (Double.isFinite(pt.std()) && pt.std() > 0) {
                    int y1 = yOf(Math.min(max, pt.mean() + pt.std()), min, max, top, bottom);
                    int y2 = yOf(Math.max(min, pt.mean() - pt.std()), min, max, top, bottom);
                    g.drawLine(x, y1, x, y2);
                    g.drawLine(x - 3, y1, x + 3, y1);
                    g.drawLine(x - 3, y2, x + 3, y2);
                }
                g.fillOval(x - 3, y - 3, 7, 7);
                px = x;
                py = y;
            }
            k++;
        }
        g.setStroke(new BasicStroke(1f));
    }

    private static int xOf(double v, double min, double max, boolean log, int left, int right) {
        double a = log ? Math.log(v) : v;
        double lo = log ? Math.log(min) : min;
        double hi = log ? Math.log(max) : max;
        double f = hi > lo ? (a - lo) / (hi - lo) : 0.5;
        return left + 18 + (int) Math.round(f * (right - left - 36));
    }

    private static int yOf(double v, double min, double max, int top, int bottom) {
        return (int) Math.round(bottom - (v - min) / (max - min) * (bottom - top));
    }
}
