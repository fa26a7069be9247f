package dev.graft.job;

import com.fasterxml.jackson.databind.JsonNode;
import dev.graft.GraftException;
import dev.graft.data.ImageOptions;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;

/** The job file's data.images block: {width, height, channels, order: rgb|bgr, layout: nchw|nhwc, mean: [..], std: [..]}. */
final class ImageJobOptions {

    private static final Set<String> KEYS = Set.of("width", "height", "channels", "order", "layout", "mean", "std");

    private ImageJobOptions() {
    }

    static ImageOptions parse(JsonNode n, Path job) {
        String f = job.getFileName().toString();
        if (n == null || !n.isObject()) {
            throw new GraftException(f + ": data.images: give at least {width: W, height: H} for image folders");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) throw new GraftException(f + ": unknown key data.images." + k + " (allowed: " + new java.util.TreeSet<>(KEYS) + ")");
        }
        int channels = n.path("channels").asInt(3);
        String order = n.path("order").asText("rgb");
        String layout = n.path("layout").asText("nchw");
        if (!order.equals("rgb") && !order.equals("bgr")) throw new GraftException(f + ": data.images.order '" + order + "' is not rgb or bgr");
        if (!layout.equals("nchw") && !layout.equals("nhwc")) throw new GraftException(f + ": data.images.layout '" + layout + "' is not nchw or nhwc");
        try {
            return new ImageOptions(n.path("width").asInt(0), n.path("height").asInt(0), channels, order.equals("bgr"),
                    layout.equals("nchw"), floats(n.get("mean")), floats(n.get("std")), null);
        } catch (GraftException e) {
            throw new GraftException(f + ": data." + e.getMessage(), e);
        }
    }

    private static float[] floats(JsonNode a) {
        if (a == null || a.isNull()) return null;
        float[] v = new float[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) a.get(i).asDouble();
        return v;
    }
}
