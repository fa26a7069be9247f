package dev.graft.data;

import dev.graft.GraftException;
import java.util.List;

/**
 * How image files become an input tensor: resized (java.awt bilinear, aspect ratio not kept) to width x
 * height; 1 channel (grey, 0.299 R + 0.587 G + 0.114 B) or 3 channels in RGB or BGR order ({@code bgr});
 * channels first (NCHW, PyTorch; {@code channelsFirst}) or last (NHWC, TensorFlow). Pixels are first scaled
 * to [0, 1] (v / 255), <em>then</em> normalised per channel as (v - mean[c]) / std[c], so ImageNet-style
 * statistics are given on the [0, 1] scale (mean 0.485, 0.456, 0.406, std 0.229, 0.224, 0.225); mean and
 * std are in the output channel order (B first when {@code bgr}). Defaults: mean 0, std 1. Transparent
 * pixels become black. {@code extensions}: the file endings read (case-insensitive, no dot; default png,
 * jpg, jpeg, bmp, gif, the formats javax.imageio decodes).
 */
public record ImageOptions(int width, int height, int channels, boolean bgr, boolean channelsFirst, float[] mean,
                           float[] std, List<String> extensions) {
    public ImageOptions {
        if (width <= 0 || height <= 0) throw new GraftException("images: width and height must be positive");
        if (channels != 1 && channels != 3) throw new GraftException("images: channels must be 1 or 3, got " + channels);
        if (mean == null) mean = new float[channels];
        if (std == null) {
            std = new float[channels];
            java.util.Arrays.fill(std, 1f);
        }
        mean = mean.clone();
        std = std.clone();
        if (mean.length != channels || std.length != channels) {
            throw new GraftException("images: mean and std need one value per channel (" + channels + ")");
        }
        for (float s : std) if (!(s > 0) || Float.isInfinite(s)) throw new GraftException("images: std values must be positive, got " + s);
        for (float m : mean) if (!Float.isFinite(m)) throw new GraftException("images: mean values must be finite, got " + m);
        if (extensions == null || extensions.isEmpty()) extensions = List.of("png", "jpg", "jpeg", "bmp", "gif");
        extensions = extensions.stream().map(e -> e.toLowerCase(java.util.Locale.ROOT).replaceFirst("^\\.", "")).toList();
    }
}
