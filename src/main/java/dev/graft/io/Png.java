package dev.graft.io;

import dev.graft.GraftException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Writes a drawn image as a PNG file, atomically (a reader never sees half a plot). */
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
}
