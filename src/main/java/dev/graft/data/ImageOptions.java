package dev.graft.data;

import dev.graft.GraftException;
import java.util.List;

/**
 * How image files become an input tensor: resized (bilinear) to width x height, 1 (grey) or 3 channels in
 * RGB or BGR order, channels first (NCHW, PyTorch) or last (NHWC, TensorFlow), pixels scaled to [0, 1] and
 * then normalised as (v - mean[c]) / std[c].
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
        if (mean.length != channels || std.length != channels) {
            throw new GraftException("images: mean and std need one value per channel (" + channels + ")");
        }
        for (float s : std) if (!(s > 0)) throw new GraftException("images: std values must be positive");
        if (extensions == null) extensions = List.of("png", "jpg", "jpeg", "bmp", "gif");
    }
}
