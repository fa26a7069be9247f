package dev.graft.onnx.ops;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Resize and Upsample as separable 1-D resamplings, one axis at a time: for every output position the
 * source coordinate is computed in the graph (in double precision, as ONNX's reference does), turned into
 * a few source indices and weights (1 tap for nearest, 2 for linear, 4 for cubic, more for antialiased
 * downsampling), and the axis is multiplied by the resulting [out, in] interpolation matrix. This
 * reproduces every ONNX coordinate transformation and nearest mode exactly, for any rank, with scales,
 * sizes and roi known only at run time, and stays differentiable. SameDiff's image resize ops are not
 * used: they are NHWC and 2-D only, and implement only some of ONNX's coordinate modes.
 *
 * <p>Export: those SameDiff image resizes (resize_bilinear, resize_nearest_neighbor: TensorFlow's ops, NHWC)
 * become one channels-first Resize between two Transposes, which the exporter's transpose pass moves away.
 */
public final class ResizeOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("Upsample", 7, ResizeOps::upsample7);
        r.importer("Upsample", 9, ResizeOps::upsample9);
        r.importer("Resize", 10, ResizeOps::resize10);
        r.importer("Resize", 11, (n, ctx) -> resize11(n, ctx, 11));
        r.importer("Resize", 13, (n, ctx) -> resize11(n, ctx, 13));
        r.importer("Resize", 18, (n, ctx) -> resize11(n, ctx, 18));
        r.importer("Resize", 19, (n, ctx) -> resize11(n, ctx, 19));

        r.exporter("resize_bilinear", (op, ctx) -> exportImageResize(op, ctx, false));
        r.exporter("resize_nearest_neighbor", (op, ctx) -> exportImageResize(op, ctx, true));
    }

    // ---------------------------------------------------------------- export

    /**
     * SameDiff's resize_bilinear / resize_nearest_neighbor (TensorFlow's semantics: NHWC images, the new height
     * and width as a size input or as integer arguments, boolean arguments align_corners and half_pixel_centers)
     * as a Resize of the channels-first image. TensorFlow's coordinates in ONNX's terms: align_corners is
     * "align_corners" (nearest rounds half up); half_pixel_centers is "half_pixel" for bilinear, and for nearest
     * floor((x + 0.5) / scale), which is "half_pixel" rounded half up (Resize-13 dropped tf_half_pixel_for_nn);
     * neither is "asymmetric" (nearest takes the floor). The sizes of all four axes are given, batch and
     * channels read from the input's shape (ONNX Runtime 1.23 rejects Resize-18's axes attribute with constant
     * sizes: "Number of elements of input 'sizes' (0) does not match the number of axes (2)").
     */
    private static void exportImageResize(SameDiffOp op, ExportContext ctx, boolean nearest) {
        String x = ctx.input(op, 0);
        if (ctx.rank(x) != 4) throw ctx.error(op, "input of rank " + ctx.rank(x) + ", only [N, H, W, C] images are exported");
        boolean[] b = ExportContext.boolArgs(op);
        boolean alignCorners = b.length > 0 && b[0];
        boolean halfPixel = b.length > 1 && b[1];
        String hw;
        if (ctx.inputCount(op) > 1) {
            long[] size = ctx.constantLongs(ctx.input(op, 1));
            hw = size != null ? ctx.longs(size) : ShapeOps.int64(ctx, ctx.input(op, 1));
        } else {
            // The integer arguments fix the output's height and width, so the probe's are the real ones.
            long[] out = ctx.probeShape(ctx.output(op, 0));
            hw = ctx.longs(out[1], out[2]);
        }
        String transform = alignCorners ? "align_corners" : halfPixel ? "half_pixel" : "asymmetric";
        String xt = ConvOps.transpose(ctx, x, ConvOps.toChannelsFirst(4));
        String nc = ctx.node("Slice", ctx.node("Shape", xt).build(), ctx.longs(0), ctx.longs(2)).build();
        ExportContext.NodeBuilder n = ctx.node("Resize", xt, "", "", ctx.node("Concat", nc, hw).attr("axis", 0L).build());
        n.attr("mode", nearest ? "nearest" : "linear").attr("coordinate_transformation_mode", transform);
        if (nearest) n.attr("nearest_mode", alignCorners || halfPixel ? "round_prefer_ceil" : "floor");
        String y = n.build();
        ctx.node("Transpose", y).attr("perm", ConvOps.toChannelsLast(4)).to(ctx.output(op, 0));
    }

    /** How source coordinates are computed and sampled; the ONNX attributes, resolved per opset. */
    record Mode(String mode, String transform, String nearestMode, double cubicA, boolean excludeOutside,
                double extrapolation, String aspectPolicy, boolean antialias) {
    }

    /** The scales or sizes of the resized axes, as run-time values (double / long vectors) and, when known, constants. */
    private record Target(int[] axes, SDVariable scales, double[] staticScales, SDVariable sizes, long[] staticSizes,
                          SDVariable roi) {
    }

    // ---------------------------------------------------------------- op versions

    /** Upsample-7: scales attribute; asymmetric coordinates like Resize-10. */
    private static void upsample7(OnnxNode n, ImportContext ctx) {
        float[] scales = n.getFloats("scales");
        if (scales == null) throw n.error("required attribute 'scales' is missing");
        double[] s = new double[scales.length];
        for (int i = 0; i < s.length; i++) s[i] = scales[i];
        SDVariable sv = ctx.constant(Nd4j.createFromArray(s));
        legacy(n, ctx, sv, s);
    }

    /** Upsample-9 (and the deprecated Upsample-10): scales input. */
    private static void upsample9(OnnxNode n, ImportContext ctx) {
        legacyWithScalesInput(n, ctx);
    }

    /** Resize-10: like Upsample-9. */
    private static void resize10(OnnxNode n, ImportContext ctx) {
        legacyWithScalesInput(n, ctx);
    }

    private static void legacyWithScalesInput(OnnxNode n, ImportContext ctx) {
        double[] stat = importTimeDoubles(n, ctx, 1);
        legacy(n, ctx, asDoubles(n, ctx, 1, stat), stat);
    }

    /**
     * The content of input i when it is known at import time, including float initializers: scales and roi
     * are not parameters, so they are read once and baked in as constants (no gradient flows into them).
     */
    private static double[] importTimeDoubles(OnnxNode n, ImportContext ctx, int i) {
        if (!n.hasInput(i)) return null;
        freeze(ctx, n, i);
        INDArray a = ctx.staticValue(n.input(i));
        return a == null ? null : a.length() == 0 ? new double[0] : a.castTo(DataType.DOUBLE).data().asDouble();
    }

    /**
     * A float initializer feeding scales or roi was imported as a trainable variable; it is no parameter,
     * and left trainable it would have no gradient (training requires one for every variable): freeze it.
     */
    static void freeze(ImportContext ctx, OnnxNode n, int i) {
        SDVariable v = ctx.value(n.input(i));
        if (v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE) {
            ctx.sd().convertToConstant(v);
        }
    }

    /** Input i as a double vector: a constant when known at import time, else the run-time value cast. */
    private static SDVariable asDoubles(OnnxNode n, ImportContext ctx, int i, double[] known) {
        return known != null ? ctx.constant(Nd4j.createFromArray(known)) : ctx.input(n, i).castTo(DataType.DOUBLE);
    }

    /**
     * Upsample and Resize-10 have no coordinate attributes: onnxruntime (the reference runtime for these
     * versions) maps asymmetrically and, for nearest, takes floor when upsampling and ceil when downsampling.
     */
    private static void legacy(OnnxNode n, ImportContext ctx, SDVariable scales, double[] staticScales) {
        String mode = n.getString("mode", "nearest");
        if (mode.equals("bilinear")) mode = "linear";
        n.unsupportedIf(!mode.equals("nearest") && !mode.equals("linear"), "mode '" + mode + "'");
        int rank = ctx.inputRank(n, 0);
        Mode m = new Mode(mode, "asymmetric", "legacy", -0.75, false, 0, "stretch", false);
        ctx.setOutput(n, 0, resize(n, ctx, ctx.input(n, 0), rank, m,
                new Target(allAxes(rank), scales, staticScales, null, null, null)));
    }

    /** Resize-11 and later: X, roi, scales, sizes; opset 18 adds antialias, axes, keep_aspect_ratio_policy. */
    private static void resize11(OnnxNode n, ImportContext ctx, int version) {
        String mode = n.getString("mode", "nearest");
        n.unsupportedIf(!Set.of("nearest", "linear", "cubic").contains(mode), "mode '" + mode + "'");
        String transform = n.getString("coordinate_transformation_mode", "half_pixel");
        Set<String> transforms = new java.util.HashSet<>(Set.of("half_pixel", "pytorch_half_pixel", "align_corners",
                "asymmetric", "tf_crop_and_resize"));
        if (version == 11) transforms.add("tf_half_pixel_for_nn");
        if (version >= 19) transforms.add("half_pixel_symmetric");
        n.unsupportedIf(!transforms.contains(transform), "coordinate_transformation_mode '" + transform + "'");
        String nearestMode = n.getString("nearest_mode", "round_prefer_floor");
        n.unsupportedIf(!Set.of("round_prefer_floor", "round_prefer_ceil", "floor", "ceil").contains(nearestMode),
                "nearest_mode '" + nearestMode + "'");
        boolean antialias = version >= 18 && n.getLong("antialias", 0) != 0;
        n.unsupportedIf(antialias && mode.equals("nearest"), "antialias with mode 'nearest'");
        // With one tap, exclude_outside would divide by a zero weight sum whenever the nearest neighbour is
        // outside the input (onnxruntime rejects the combination outright).
        n.unsupportedIf(mode.equals("nearest") && n.getLong("exclude_outside", 0) != 0, "exclude_outside with mode 'nearest'");
        String policy = version >= 18 ? n.getString("keep_aspect_ratio_policy", "stretch") : "stretch";
        n.unsupportedIf(!Set.of("stretch", "not_larger", "not_smaller").contains(policy),
                "keep_aspect_ratio_policy '" + policy + "'");
        Mode m = new Mode(mode, transform, nearestMode, n.getFloat("cubic_coeff_a", -0.75f),
                n.getLong("exclude_outside", 0) != 0, n.getFloat("extrapolation_value", 0f), policy, antialias);

        int rank = ctx.inputRank(n, 0);
        int[] axes = allAxes(rank);
        if (version >= 18 && n.has("axes")) {
            long[] given = n.getLongs("axes");
            axes = new int[given.length];
            for (int i = 0; i < given.length; i++) axes[i] = ImportContext.axis(n, given[i], rank);
            if (Arrays.stream(axes).distinct().count() != axes.length) throw n.error("axes repeat an axis");
        }
        SDVariable roi = null;
        if (transform.equals("tf_crop_and_resize")) {
            if (!n.hasInput(1)) throw n.error("tf_crop_and_resize needs the roi input");
            roi = asDoubles(n, ctx, 1, importTimeDoubles(n, ctx, 1));
        }
        // Exactly one of scales and sizes is used; an empty constant stands for "not given" (opset 11).
        double[] sizesKnown = importTimeDoubles(n, ctx, 3);
        boolean useSizes = n.hasInput(3) && !(sizesKnown != null && sizesKnown.length == 0);
        Target t;
        if (useSizes) {
            long[] stat = sizesKnown == null ? null : Arrays.stream(sizesKnown).mapToLong(d -> (long) d).toArray();
            t = new Target(axes, null, null, asDoubles(n, ctx, 3, sizesKnown), stat, roi);
        } else {
            n.unsupportedIf(!policy.equals("stretch"), "keep_aspect_ratio_policy with scales");
            if (!n.hasInput(2)) throw n.error("neither scales nor sizes is given");
            double[] stat = importTimeDoubles(n, ctx, 2);
            t = new Target(axes, asDoubles(n, ctx, 2, stat), stat, null, null, roi);
        }
        ctx.setOutput(n, 0, resize(n, ctx, ctx.input(n, 0), rank, m, t));
    }

    private static int[] allAxes(int rank) {
        int[] a = new int[rank];
        for (int i = 0; i < rank; i++) a[i] = i;
        return a;
    }

    // ---------------------------------------------------------------- the resampling

    private static SDVariable resize(OnnxNode n, ImportContext ctx, SDVariable x, int rank, Mode m, Target t) {
        SameDiff sd = ctx.sd();
        boolean floatInput = x.dataType().isFPType();
        n.unsupportedIf(!floatInput && !m.mode().equals("nearest"), m.mode() + " resize of " + x.dataType() + " data");
        long[] inShape = ctx.inputShape(n, 0);
        int k = t.axes().length;
        if (t.staticScales() != null && t.staticScales().length != k) {
            throw n.error("scales has " + t.staticScales().length + " entries, expected " + k);
        }
        if (t.staticSizes() != null && t.staticSizes().length != k) {
            throw n.error("sizes has " + t.staticSizes().length + " entries, expected " + k);
        }
        SDVariable shape = sd.shape(x).castTo(DataType.DOUBLE);
        SDVariable[] in = new SDVariable[k];
        for (int i = 0; i < k; i++) in[i] = element(sd, shape, t.axes()[i]);

        // Per resized axis: the scale used by the coordinate transform and the output length (both double).
        SDVariable[] scale = new SDVariable[k];
        SDVariable[] out = new SDVariable[k];
        if (t.sizes() != null) {
            SDVariable common = null;
            for (int i = 0; i < k; i++) {
                out[i] = element(sd, t.sizes(), i);
                scale[i] = out[i].div(in[i]);
                if (!m.aspectPolicy().equals("stretch")) {
                    common = common == null ? scale[i]
                            : m.aspectPolicy().equals("not_larger") ? sd.math().min(common, scale[i]) : sd.math().max(common, scale[i]);
                }
            }
            if (common != null) {
                // One scale for all resized axes; sizes become round_half_up(scale * in).
                for (int i = 0; i < k; i++) {
                    scale[i] = common;
                    out[i] = sd.math().floor(common.mul(in[i]).add(0.5));
                }
            }
        } else {
            for (int i = 0; i < k; i++) {
                scale[i] = element(sd, t.scales(), i);
                out[i] = sd.math().floor(scale[i].mul(in[i]));
            }
        }

        // The scale per axis when known at import time (antialias needs it: it sets the number of taps).
        Double[] staticScale = new Double[k];
        if (t.staticScales() != null) {
            for (int i = 0; i < k; i++) staticScale[i] = t.staticScales()[i];
        } else if (t.staticSizes() != null && Arrays.stream(t.axes()).allMatch(a -> inShape[a] >= 0)) {
            double common = m.aspectPolicy().equals("not_larger") ? Double.MAX_VALUE : 0;
            for (int i = 0; i < k; i++) {
                staticScale[i] = (double) t.staticSizes()[i] / inShape[t.axes()[i]];
                common = m.aspectPolicy().equals("not_larger") ? Math.min(common, staticScale[i]) : Math.max(common, staticScale[i]);
            }
            if (!m.aspectPolicy().equals("stretch")) Arrays.fill(staticScale, common);
        }

        // Last axis first (ONNX's reference recursion); the order does not change the result.
        Integer[] order = new Integer[k];
        for (int i = 0; i < k; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Integer.compare(t.axes()[b], t.axes()[a]));
        SDVariable y = x;
        for (int i : order) {
            int axis = t.axes()[i];
            if (isIdentity(m, t, i, inShape[axis])) continue;
            SDVariable roiStart = null;
            SDVariable roiEnd = null;
            if (t.roi() != null) {
                roiStart = element(sd, t.roi(), i);
                roiEnd = element(sd, t.roi(), k + i);
            }
            n.unsupportedIf(m.antialias() && staticScale[i] == null, "antialias with a scale known only at run time");
            y = resizeAxis(ctx, y, rank, axis, in[i], out[i], scale[i], staticScale[i], roiStart, roiEnd, m);
        }
        return y;
    }

    /** True when the axis is known at import time to map every output position to the same input position. */
    private static boolean isIdentity(Mode m, Target t, int i, long inDim) {
        if (m.transform().equals("tf_crop_and_resize")) return false;
        if (t.staticScales() != null) return t.staticScales()[i] == 1.0;
        if (t.staticSizes() != null && m.aspectPolicy().equals("stretch")) return inDim >= 0 && t.staticSizes()[i] == inDim;
        return false;
    }

    private static SDVariable element(SameDiff sd, SDVariable vector, int i) {
        return sd.squeeze(sd.slice(vector, new int[]{i}, 1), 0);
    }

    /** Resamples one axis; in/out/scale/roi are double scalars. */
    private static SDVariable resizeAxis(ImportContext ctx, SDVariable x, int rank, int axis, SDVariable in,
                                         SDVariable out, SDVariable scale, Double staticScale, SDVariable roiStart,
                                         SDVariable roiEnd, Mode m) {
        SameDiff sd = ctx.sd();
        SDVariable pos = sd.range(ctx.scalar(DataType.DOUBLE, 0), out, ctx.scalar(DataType.DOUBLE, 1), DataType.DOUBLE);
        SDVariable outWidth = scale.mul(in); // as in ONNX's reference: scale * input length, not rounded
        SDVariable inLast = in.sub(1.0);
        SDVariable widthIsOne = outWidth.eq(1.0).castTo(DataType.DOUBLE);
        // Denominator (outWidth - 1) with 1 in its place when outWidth == 1 (that branch is overridden).
        SDVariable safeDen = outWidth.sub(1.0).add(widthIsOne);
        SDVariable inRange = null;
        SDVariable src;
        switch (m.transform()) {
            case "half_pixel" -> src = pos.add(0.5).div(scale).sub(0.5);
            case "half_pixel_symmetric" -> {
                SDVariable adjustment = out.div(outWidth);
                SDVariable offset = in.div(2.0).mul(adjustment.rsub(1.0));
                src = offset.add(pos.add(0.5).div(scale)).sub(0.5);
            }
            case "pytorch_half_pixel" -> src = pos.add(0.5).div(scale).sub(0.5).mul(widthIsOne.rsub(1.0))
                    .add(widthIsOne.mul(-0.5));
            case "align_corners" -> src = pos.mul(inLast).div(safeDen); // 0 when outWidth == 1 (pos is 0)
            case "asymmetric" -> src = pos.div(scale);
            case "tf_half_pixel_for_nn" -> src = pos.add(0.5).div(scale);
            case "tf_crop_and_resize" -> {
                SDVariable extent = roiEnd.sub(roiStart);
                SDVariable many = pos.mul(extent).mul(inLast).div(safeDen);
                SDVariable single = extent.mul(inLast).div(2.0);
                src = many.mul(widthIsOne.rsub(1.0)).add(single.mul(widthIsOne)).add(roiStart.mul(inLast));
                // Outside [0, in - 1] the output is extrapolation_value (TF CropAndResize).
                inRange = src.gte(0.0).castTo(DataType.DOUBLE).mul(src.lte(inLast).castTo(DataType.DOUBLE));
            }
            default -> throw new IllegalStateException(m.transform());
        }
        // base = the source index left of src (one left when src is integral), ratio in (0, 1].
        SDVariable base = sd.math().ceil(src).sub(1.0);
        SDVariable ratio = src.sub(base);
        SDVariable y;
        if (m.mode().equals("nearest")) {
            SDVariable idx = switch (m.nearestMode()) {
                case "round_prefer_floor" -> base.add(ratio.gt(0.5).castTo(DataType.DOUBLE));
                case "round_prefer_ceil" -> base.add(ratio.gte(0.5).castTo(DataType.DOUBLE));
                case "floor" -> sd.math().floor(src);
                case "ceil" -> sd.math().ceil(src);
                // Upsample / Resize-10: floor when upsampling, ceil when downsampling.
                case "legacy" -> {
                    SDVariable down = scale.lt(1.0).castTo(DataType.DOUBLE);
                    yield sd.math().ceil(src).mul(down).add(sd.math().floor(src).mul(down.rsub(1.0)));
                }
                default -> throw new IllegalStateException(m.nearestMode());
            };
            y = x.dataType().isFPType()
                    ? applyWeights(ctx, x, rank, axis, in, out, List.of(clampIndex(sd, idx, inLast)), null)
                    : sd.gather(x, clampIndex(sd, idx, inLast).castTo(DataType.INT), axis);
        } else {
            List<SDVariable> idx = new ArrayList<>();
            List<SDVariable> w = new ArrayList<>();
            if (m.antialias()) {
                antialiasTaps(m, base, ratio, staticScale, idx, w);
            } else if (m.mode().equals("linear")) {
                idx.add(base);
                idx.add(base.add(1.0));
                w.add(ratio.rsub(1.0));
                w.add(ratio);
            } else {
                double a = m.cubicA();
                for (int j = -1; j <= 2; j++) idx.add(base.add(j));
                SDVariable r1 = ratio.add(1.0);
                SDVariable q = ratio.rsub(1.0);
                SDVariable q1 = q.add(1.0);
                // ONNX's cubic convolution coefficients (Keys, parameter A), in the reference's term order.
                w.add(r1.mul(a).sub(5 * a).mul(r1).add(8 * a).mul(r1).sub(4 * a));
                w.add(ratio.mul(a + 2).sub(a + 3).mul(ratio).mul(ratio).add(1.0));
                w.add(q.mul(a + 2).sub(a + 3).mul(q).mul(q).add(1.0));
                w.add(q1.mul(a).sub(5 * a).mul(q1).add(8 * a).mul(q1).sub(4 * a));
            }
            if (m.excludeOutside()) {
                // Taps outside the input get weight 0; the rest are renormalised.
                SDVariable total = null;
                for (int j = 0; j < w.size(); j++) {
                    SDVariable inside = idx.get(j).gte(0.0).castTo(DataType.DOUBLE)
                            .mul(idx.get(j).lte(inLast).castTo(DataType.DOUBLE));
                    w.set(j, w.get(j).mul(inside));
                    total = total == null ? w.get(j) : total.add(w.get(j));
                }
                for (int j = 0; j < w.size(); j++) w.set(j, w.get(j).div(total));
            }
            List<SDVariable> clamped = new ArrayList<>();
            for (SDVariable i : idx) clamped.add(clampIndex(sd, i, inLast));
            y = applyWeights(ctx, x, rank, axis, in, out, clamped, w);
        }
        if (inRange != null) {
            SDVariable keep = alongAxis(sd, inRange.castTo(x.dataType()), rank, axis);
            y = y.mul(keep).add(keep.rsub(1.0).mul(m.extrapolation()));
        }
        return y;
    }

    /**
     * Antialiased linear / cubic (opset 18): when downsampling by s the kernel is stretched by 1/s, so it
     * covers 2 - 2 * start taps, start = floor(-support / s) + 1; the weights are the kernel at
     * (start + t - ratio) * s, normalised to sum 1. Upsampling (s >= 1) gives the plain kernel.
     */
    private static void antialiasTaps(Mode m, SDVariable base, SDVariable ratio, double scale, List<SDVariable> idx,
                                      List<SDVariable> w) {
        double s = Math.min(scale, 1.0);
        boolean linear = m.mode().equals("linear");
        int start = (int) (Math.floor((linear ? -1 : -2) / s) + 1);
        int taps = 2 - 2 * start;
        double a = m.cubicA();
        SDVariable total = null;
        for (int t = 0; t < taps; t++) {
            idx.add(base.add(start + t));
            SDVariable x = ratio.rsub(start + t).mul(s);
            SDVariable ax = x.getSameDiff().math().abs(x);
            SDVariable c;
            if (linear) {
                c = ax.rsub(1.0).getSameDiff().math().max(ax.rsub(1.0), ax.mul(0.0));
            } else {
                SDVariable ax2 = ax.mul(ax);
                SDVariable ax3 = ax.mul(ax2);
                SDVariable inner = ax3.mul(a + 2).sub(ax2.mul(a + 3)).add(1.0);
                SDVariable outer = ax3.mul(a).sub(ax2.mul(5 * a)).add(ax.mul(8 * a)).sub(4 * a);
                SDVariable le1 = ax.lte(1.0).castTo(DataType.DOUBLE);
                SDVariable lt2 = ax.lt(2.0).castTo(DataType.DOUBLE);
                c = inner.mul(le1).add(outer.mul(lt2.mul(le1.rsub(1.0))));
            }
            w.add(c);
            total = total == null ? c : total.add(c);
        }
        for (int t = 0; t < taps; t++) w.set(t, w.get(t).div(total));
    }

    /** Edge padding: indices outside [0, in - 1] read the nearest edge element (double result). */
    private static SDVariable clampIndex(SameDiff sd, SDVariable idx, SDVariable inLast) {
        return sd.math().min(sd.math().max(idx, idx.mul(0.0)), inLast);
    }

    /**
     * y[..., o, ...] = sum over taps k of w_k[o] * x[..., idx_k[o], ...], as a product with the [out, in]
     * interpolation matrix built from one-hot rows. A matrix product rather than Gathers because in ND4J
     * 1.0.0-M2.1 Gather's gradient is broken (along axis > 0 it reuses a fixed variable name; along axis 0
     * it overwrites instead of accumulating repeated indices), and resizing must stay trainable.
     * {@code weights} null means one tap of weight 1 (nearest).
     */
    private static SDVariable applyWeights(ImportContext ctx, SDVariable x, int rank, int axis, SDVariable in,
                                           SDVariable out, List<SDVariable> idx, List<SDVariable> weights) {
        SameDiff sd = ctx.sd();
        SDVariable columns = sd.reshape(sd.range(ctx.scalar(DataType.DOUBLE, 0), in, ctx.scalar(DataType.DOUBLE, 1),
                DataType.DOUBLE), 1, -1);
        SDVariable matrix = null;
        for (int k = 0; k < idx.size(); k++) {
            SDVariable rows = sd.reshape(idx.get(k), -1, 1);
            SDVariable term = rows.eq(columns).castTo(DataType.DOUBLE);
            if (weights != null) term = term.mul(sd.reshape(weights.get(k), -1, 1));
            matrix = matrix == null ? term : matrix.add(term);
        }
        matrix = matrix.castTo(x.dataType()); // [out, in]

        // Move the axis last, flatten the rest, multiply by the transposed matrix, and restore.
        int[] perm = new int[rank];
        int p = 0;
        for (int d = 0; d < rank; d++) if (d != axis) perm[p++] = d;
        perm[rank - 1] = axis;
        boolean moved = axis != rank - 1;
        SDVariable xt = moved ? sd.permute(x, perm) : x;
        SDVariable lead = sd.slice(sd.shape(xt).castTo(DataType.LONG), new int[]{0}, rank - 1);
        SDVariable inLong = sd.reshape(in.castTo(DataType.LONG), 1);
        SDVariable outLong = sd.reshape(out.castTo(DataType.LONG), 1);
        SDVariable flat = sd.reshape(xt, sd.concat(0, ctx.constant(Nd4j.createFromArray(-1L)), inLong));
        SDVariable product = sd.mmul(flat, matrix, false, true, false);
        SDVariable yt = sd.reshape(product, sd.concat(0, lead, outLong));
        if (!moved) return yt;
        int[] inverse = new int[rank];
        for (int d = 0; d < rank; d++) inverse[perm[d]] = d;
        return sd.permute(yt, inverse);
    }

    /** Reshapes a per-output-position vector to [out, 1, ..., 1] so it broadcasts along the axis. */
    private static SDVariable alongAxis(SameDiff sd, SDVariable v, int rank, int axis) {
        long[] shape = new long[rank - axis];
        Arrays.fill(shape, 1);
        shape[0] = -1;
        return sd.reshape(v, shape);
    }
}
