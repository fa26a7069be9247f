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

/** Plots as PNG files: a white anti-aliased canvas to draw on, and an atomic write (no reader sees half a plot). */
public final class Png {
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
}
