package dev.graft.io;

import dev.graft.GraftException;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Plots as PNG files: a white anti-aliased canvas to draw on, the y-axis ticks both plots draw, and an atomic
 * write (no reader sees half a plot).
 */
public final class Png {
    /** The light grey of grid lines. */
    public static final Color GRID = new Color(225, 225, 225);

    private Png() {
    }

    public static void write(BufferedImage img, Path png) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", bytes)) throw new IOException("no PNG writer");
        } catch (IOException e) {
            throw new GraftException(png + ": cannot encode the plot: " + e.getMessage(), e);
        }
        AtomicFiles.write(png, bytes.toByteArray());
    }

    /** A white RGB image and its graphics, anti-aliased, pen black; the caller disposes of the graphics. */
    public static Graphics2D canvas(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        return g;
    }

    /**
     * A y-axis tick at height y: a grid line across the plot (left to right), a tick mark left of the axis and the
     * label right-aligned {@code gap} pixels left of it. Leaves the pen black.
     */
    public static void yTick(Graphics2D g, int y, int left, int right, String label, int gap) {
        g.setColor(GRID);
        g.drawLine(left + 1, y, right, y);
        g.setColor(Color.BLACK);
        g.drawLine(left - 4, y, left, y);
        g.drawString(label, left - gap - g.getFontMetrics().stringWidth(label), y + 4);
    }
}
