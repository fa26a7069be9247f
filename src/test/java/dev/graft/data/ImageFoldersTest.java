package dev.graft.data;

import static dev.graft.data.DataAssert.assertFails;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import javax.imageio.ImageIO;

/** Image folders: class indices from sorted folder names, pixel layout, channel order, normalisation, errors. */
class ImageFoldersTest {

    @TempDir
    Path dir;

    static final HeadLabels ANIMAL = new HeadLabels("animal", LabelKind.CLASSES, 3);

    /** A 2x2 image: (0,0) = (200, 100, 50), (1,0) = (0, 255, 0), (0,1) = (0, 0, 255), (1,1) = (255, 255, 255). */
    static BufferedImage quad() {
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, new Color(200, 100, 50).getRGB());
        img.setRGB(1, 0, new Color(0, 255, 0).getRGB());
        img.setRGB(0, 1, new Color(0, 0, 255).getRGB());
        img.setRGB(1, 1, new Color(255, 255, 255).getRGB());
        return img;
    }

    static BufferedImage plain(Color c, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    void save(BufferedImage img, String format, String path) throws Exception {
        Path f = dir.resolve(path);
        Files.createDirectories(f.getParent());
        if (!ImageIO.write(img, format, f.toFile())) throw new IllegalStateException("no ImageIO writer for " + format);
    }

    ImageOptions options(int channels, boolean bgr, boolean nchw, float[] mean, float[] std) {
        return new ImageOptions(2, 2, channels, bgr, nchw, mean, std, null);
    }

    @Test
    void sortedFolderNamesGiveClassIndicesAndOtherFilesAreLeftOut() throws Exception {
        save(plain(Color.RED, 5, 3), "png", "zebra/a.png");
        save(plain(Color.RED, 5, 3), "png", "cat/b.PNG");
        save(plain(Color.RED, 5, 3), "png", "cat/a.png");
        save(plain(Color.RED, 5, 3), "png", "dog/x.png");
        Files.writeString(dir.resolve("dog/notes.txt"), "not an image, not read");
        Files.createDirectories(dir.resolve(".cache"));
        Files.writeString(dir.resolve("README.md"), "a file beside the class folders");
        assertEquals(List.of("cat", "dog", "zebra"), Datasets.imageClasses(dir));
        Dataset d = Datasets.imageFolders(dir, options(3, false, true, null, null), "input", ANIMAL);
        assertEquals(4, d.size());
        assertArrayEquals(new long[]{0, 0, 1, 2}, d.labels().get("animal").dup().data().asLong());
    }

    @Test
    void nchwRgbWithMeanAndStdAfterScaling() throws Exception {
        save(quad(), "png", "a/q.png");
        float[] mean = {0.5f, 0.25f, 0f};
        float[] std = {0.5f, 0.25f, 2f};
        INDArray x = Datasets.imageFolders(dir, options(3, false, true, mean, std), "input", ANIMAL).inputs().get("input");
        assertArrayEquals(new long[]{1, 3, 2, 2}, x.shape());
        // pixel (0,0) = (200, 100, 50): ((200/255 - 0.5) / 0.5, (100/255 - 0.25) / 0.25, (50/255 - 0) / 2)
        assertEquals((200 / 255.0 - 0.5) / 0.5, x.getDouble(0, 0, 0, 0), 1e-6);
        assertEquals((100 / 255.0 - 0.25) / 0.25, x.getDouble(0, 1, 0, 0), 1e-6);
        assertEquals(50 / 255.0 / 2, x.getDouble(0, 2, 0, 0), 1e-6);
        // pixel (x=1, y=0) is green: row 0, column 1 of the G plane
        assertEquals((1 - 0.25) / 0.25, x.getDouble(0, 1, 0, 1), 1e-6);
        // pixel (x=0, y=1) is blue: row 1, column 0 of the B plane
        assertEquals(0.5, x.getDouble(0, 2, 1, 0), 1e-6);
    }

    @Test
    void nhwcBgrPutsBlueFirstAndChannelsLast() throws Exception {
        save(quad(), "bmp", "a/q.bmp");
        INDArray x = Datasets.imageFolders(dir, options(3, true, false, null, null), "input", ANIMAL).inputs().get("input");
        assertArrayEquals(new long[]{1, 2, 2, 3}, x.shape());
        float[] flat = x.dup('c').data().asFloat();
        // [y][x][c] with c = B, G, R; pixel (0,0) = (200, 100, 50) -> 50, 100, 200
        float[] expected = {50, 100, 200, 0, 255, 0, 255, 0, 0, 255, 255, 255};
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i] / 255f, flat[i], 1e-6, "position " + i);
    }

    @Test
    void oneChannelIsLuminance() throws Exception {
        save(quad(), "png", "a/q.png");
        INDArray x = Datasets.imageFolders(dir, options(1, false, true, null, null), "input", ANIMAL).inputs().get("input");
        assertArrayEquals(new long[]{1, 1, 2, 2}, x.shape());
        // 0.299 * 200 + 0.587 * 100 + 0.114 * 50 = 124.2
        assertEquals(124.2 / 255, x.getDouble(0, 0, 0, 0), 1e-6);
        assertEquals(0.587, x.getDouble(0, 0, 0, 1), 1e-6);
        assertEquals(1.0, x.getDouble(0, 0, 1, 1), 1e-6);
    }

    @Test
    void resizesEveryFormat() throws Exception {
        save(plain(new Color(255, 0, 0), 30, 20), "png", "a/r.png");
        save(plain(new Color(255, 0, 0), 7, 9), "gif", "a/r.gif");
        save(plain(new Color(255, 0, 0), 16, 16), "jpg", "a/r.jpg");
        save(plain(new Color(255, 0, 0), 3, 3), "bmp", "a/r.jpeg.bmp");
        Dataset d = Datasets.imageFolders(dir, new ImageOptions(4, 3, 3, false, false, null, null, null), "input", ANIMAL);
        assertEquals(4, d.size());
        INDArray x = d.inputs().get("input");
        assertArrayEquals(new long[]{4, 3, 4, 3}, x.shape());
        // a plain image stays plain whatever the interpolation; JPEG may move a value by a few levels (tolerance 4/255)
        for (int i = 0; i < 4; i++) {
            for (int y = 0; y < 3; y++) {
                for (int xx = 0; xx < 4; xx++) {
                    assertEquals(1.0, x.getDouble(i, y, xx, 0), 4 / 255.0);
                    assertEquals(0.0, x.getDouble(i, y, xx, 1), 4 / 255.0);
                }
            }
        }
    }

    @Test
    void downscalingAHalfBlackHalfWhiteImageKeepsItsEnds() throws Exception {
        BufferedImage img = plain(Color.BLACK, 8, 2);
        for (int y = 0; y < 2; y++) for (int x = 4; x < 8; x++) img.setRGB(x, y, Color.WHITE.getRGB());
        save(img, "png", "a/h.png");
        INDArray x = Datasets.imageFolders(dir, new ImageOptions(4, 1, 1, false, true, null, null, null), "input", ANIMAL)
                .inputs().get("input");
        // bilinear from 8 to 4 columns: the outer columns sample inside the plain halves
        assertEquals(0.0, x.getDouble(0, 0, 0, 0), 1e-6);
        assertEquals(1.0, x.getDouble(0, 0, 0, 3), 1e-6);
    }

    @Test
    void badFoldersAndImagesAreNamed() throws Exception {
        assertFails(() -> Datasets.imageFolders(dir.resolve("none"), options(3, false, true, null, null), "input", ANIMAL), "none: no such image folder");
        assertFails(() -> Datasets.imageFolders(dir, options(3, false, true, null, null), "input", ANIMAL), "no class subfolders");
        assertFails(() -> Datasets.imageFolders(dir, options(3, false, true, null, null), "input", new HeadLabels("tags", LabelKind.MULTI_LABEL, 2)),
                "head 'tags' takes MULTI_LABEL");
        save(quad(), "png", "a/q.png");
        Files.createDirectories(dir.resolve("b"));
        Files.writeString(dir.resolve("b/readme.txt"), "no image here");
        assertFails(() -> Datasets.imageFolders(dir, options(3, false, true, null, null), "input", ANIMAL),
                dir.resolve("b") + ": empty class folder, no image with extension [png, jpg, jpeg, bmp, gif]");
        save(quad(), "png", "b/q.png");
        save(quad(), "png", "c/q.png");
        save(quad(), "png", "d/q.png");
        assertFails(() -> Datasets.imageFolders(dir, options(3, false, true, null, null), "input", ANIMAL),
                "4 class folders [a, b, c, d], but head 'animal' has 3 classes");
        Files.delete(dir.resolve("d/q.png"));
        Files.delete(dir.resolve("d"));
        Files.writeString(dir.resolve("c/broken.jpg"), "not a jpeg at all");
        assertFails(() -> Datasets.imageFolders(dir, options(3, false, true, null, null), "input", ANIMAL), "broken.jpg: not an image ImageIO can decode");
        Files.delete(dir.resolve("c/broken.jpg"));
        Files.write(dir.resolve("c/truncated.png"), java.util.Arrays.copyOf(Files.readAllBytes(dir.resolve("c/q.png")), 40));
        assertFails(() -> Datasets.imageFolders(dir, options(3, false, true, null, null), "input", ANIMAL), "truncated.png: cannot decode the image");
    }

    @Test
    void badOptionsAreNamed() {
        assertFails(() -> new ImageOptions(0, 4, 3, false, true, null, null, null), "images: width and height must be positive");
        assertFails(() -> new ImageOptions(4, 4, 2, false, true, null, null, null), "images: channels must be 1 or 3, got 2");
        assertFails(() -> new ImageOptions(4, 4, 3, false, true, new float[]{0.5f}, null, null), "one value per channel (3)");
        assertFails(() -> new ImageOptions(4, 4, 1, false, true, null, new float[]{0}, null), "std values must be positive, got 0.0");
        assertEquals(List.of("png", "tif"), new ImageOptions(4, 4, 1, false, true, null, null, List.of(".PNG", "tif")).extensions());
    }
}
