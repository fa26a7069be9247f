package dev.graft.onnx.ops;

import static dev.graft.onnx.ops.IndexOperands.ones;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ExportContext;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.ops.IndexOperands.Bounds;
import dev.graft.onnx.ops.IndexOperands.RuntimeInts;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.enums.PadMode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Pad (constant, reflect, edge), with pads as attribute (opsets 1, 2) or input (11), and axes (18). */
public final class PadOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        // Pad-1 names its attribute "paddings", Pad-2 "pads"; from 11 pads and value are inputs, 18 adds axes.
        r.importer("Pad", 1, (n, ctx) -> pad(n, ctx, Bounds.of(n.getLongs("paddings")), null, Bounds.of((long[]) null)));
        r.importer("Pad", 2, (n, ctx) -> pad(n, ctx, Bounds.of(n.getLongs("pads")), null, Bounds.of((long[]) null)));
        r.importer("Pad", 11, (n, ctx) -> pad(n, ctx, Bounds.input(n, ctx, 1), ctx.optionalInput(n, 2), Bounds.of((long[]) null)));
        r.importer("Pad", 18, (n, ctx) -> pad(n, ctx, Bounds.input(n, ctx, 1), ctx.optionalInput(n, 2), Bounds.input(n, ctx, 3)));

        r.exporter("pad", PadOps::exportPad);
    }

    // ---------------------------------------------------------------- export

    /**
     * SameDiff pad(x, paddings [rank, 2], mode, value): ONNX Pad with pads [begins..., ends...]. CONSTANT and
     * REFLECT are the same in both; SYMMETRIC (edge included in the mirror) has no ONNX mode.
     */
    private static void exportPad(SameDiffOp op, ExportContext ctx) {
        long[] a = ExportContext.intArgs(op);
        double[] t = ExportContext.floatArgs(op);
        String x = ctx.input(op, 0);
        String mode = switch (a.length == 0 ? 0 : (int) a[0]) {
            case 0 -> "constant";
            case 1 -> "reflect";
            default -> throw ctx.error(op, "pad mode SYMMETRIC has no ONNX equivalent");
        };
        String paddings = ctx.input(op, 1);
        long[] p = ctx.constantLongs(paddings);
        String pads;
        if (p != null) {
            int rank = p.length / 2;
            long[] onnx = new long[p.length];
            for (int d = 0; d < rank; d++) {
                onnx[d] = p[2 * d];
                onnx[d + rank] = p[2 * d + 1];
            }
            pads = ctx.longs(onnx);
        } else {
            String tr = ctx.node("Transpose", ShapeOps.int64(ctx, paddings)).attr("perm", new long[]{1, 0}).build();
            pads = ctx.node("Reshape", tr, ctx.longs(-1)).build();
        }
        ExportContext.NodeBuilder b;
        if (mode.equals("constant")) {
            double value = t.length > 0 ? t[0] : 0;
            b = value == 0 ? ctx.node("Pad", x, pads) : ctx.node("Pad", x, pads, ctx.scalar(ctx.dataType(x), value));
        } else {
            b = ctx.node("Pad", x, pads).attr("mode", mode);
        }
        b.to(ctx.output(op, 0));
    }

    private static void pad(OnnxNode n, ImportContext ctx, Bounds pads, SDVariable valueInput, Bounds axes) {
        SameDiff sd = ctx.sd();
        SDVariable x = ctx.input(n, 0);
        int rank = ctx.inputRank(n, 0);
        String mode = n.getString("mode", "constant");
        n.unsupportedIf(!mode.equals("constant") && !mode.equals("reflect") && !mode.equals("edge"), "Pad mode '" + mode + "'");
        if (pads.absent()) throw n.error("pads are required");
        long[] axisList;
        if (axes.absent()) {
            axisList = RuntimeInts.range(rank);
        } else {
            if (!axes.isStatic()) throw n.error("axes computed at run time are not supported; graft needs them constant");
            axisList = Arrays.stream(axes.values()).map(a -> ImportContext.axis(n, a, rank)).toArray();
        }
        int k = axisList.length;
        if (pads.length() != 2 * k) throw n.error("pads has " + pads.length() + " entries, expected " + 2 * k);

        // Constant value: attribute (Pad-1/2), optional input (11+), default 0.
        Double staticValue = null;
        SDVariable value = null;
        if (valueInput == null) {
            staticValue = (double) n.getFloat("value", 0f);
        } else if (ctx.isStaticInput(n, 2)) {
            INDArray v = ctx.constantInput(n, 2, "constant_value");
            staticValue = v.length() == 0 ? 0.0 : v.getDouble(0);
        } else {
            value = sd.reshape(valueInput.castTo(x.dataType()), new long[0]);
        }

        if (pads.isStatic()) {
            ctx.setOutput(n, 0, staticPad(ctx, x, rank, axisList, pads.values(), mode, staticValue, value));
            return;
        }
        // General path: per padded axis, gather over positions -begin .. dim+end mapped into the input.
        RuntimeInts ri = new RuntimeInts(ctx);
        SDVariable dims = ri.dims(x);
        long[] staticDims = ctx.inputShape(n, 0);
        SDVariable y = x;
        for (int i = 0; i < k; i++) {
            if (pads.isStatic() && pads.values()[i] == 0 && pads.values()[i + k] == 0) continue;
            int d = (int) axisList[i];
            SDVariable dim = ri.at(dims, d);
            SDVariable idx = ri.range(pads.at(ri, i).neg(), dim.add(pads.at(ri, i + k)), ri.c(1));
            SDVariable last = dim.sub(ri.c(1));
            SDVariable src;
            switch (mode) {
                case "edge" -> src = ri.clamp(idx, ri.c(0), last);
                case "reflect" -> {
                    SDVariable j = sd.math().abs(idx);
                    SDVariable over = sd.gt(j, last).castTo(DataType.LONG);
                    src = j.add(over.mul(last.mul(ri.c(2)).sub(j.mul(ri.c(2)))));
                }
                default -> src = ri.clamp(idx, ri.c(0), last);
            }
            SDVariable g = y.dataType().isFPType() && staticDims[d] > 0
                    ? GatherOps.gatherByOneHot(sd, y, src, d, rank, staticDims[d], 1) : sd.gather(y, src, d);
            if (mode.equals("constant")) {
                SDVariable inside = sd.eq(src, idx).castTo(g.dataType() == DataType.BOOL ? DataType.INT : g.dataType());
                long[] bshape = ones(rank);
                bshape[d] = -1;
                inside = sd.reshape(inside, bshape);
                SDVariable fill = value != null ? value : ctx.scalar(x.dataType(), staticValue);
                // inside * g + (1 - inside) * value, so the gradient flows to the copied elements only.
                g = g.mul(inside).add(fill.mul(inside.rsub(1.0)));
            }
            y = g;
        }
        ctx.setOutput(n, 0, y == x ? sd.identity(x) : y);
    }

    /**
     * Pad with pads known at import time, built from differentiable pieces (dims may be dynamic): negative
     * pads crop with a strided slice; constant mode uses SameDiff's pad; reflect and edge concatenate
     * reversed or repeated border slices (SameDiff's own reflect pad has no correct gradient).
     */
    private static SDVariable staticPad(ImportContext ctx, SDVariable x, int rank, long[] axisList, long[] p,
                                        String mode, Double staticValue, SDVariable value) {
        SameDiff sd = ctx.sd();
        int k = axisList.length;
        SDVariable y = x;
        long[][] grow = new long[rank][2];
        boolean anyGrow = false;
        for (int i = 0; i < k; i++) {
            int d = (int) axisList[i];
            long b = p[i];
            long e = p[i + k];
            if (b < 0 || e < 0) {
                // Crop: keep [max(0,-b), dim - max(0,-e)).
                y = axisSlice(sd, y, d, rank, Math.max(0, -b), e < 0 ? e : null);
            }
            grow[d][0] = Math.max(0, b);
            grow[d][1] = Math.max(0, e);
            anyGrow |= b > 0 || e > 0;
        }
        if (!anyGrow) {
            return y == x ? sd.identity(x) : y;
        }
        if (mode.equals("constant")) {
            SDVariable padVar = ctx.constant(Nd4j.createFromArray(grow).castTo(DataType.INT));
            if (value == null) {
                return sd.nn().pad(y, padVar, PadMode.CONSTANT, staticValue);
            }
            // Run-time value: zero padding plus value * (1 where padded).
            SDVariable inside = sd.nn().pad(sd.onesLike(y), padVar, PadMode.CONSTANT, 0);
            return sd.nn().pad(y, padVar, PadMode.CONSTANT, 0).add(value.mul(inside.rsub(1.0)));
        }
        for (int d = 0; d < rank; d++) {
            long b = grow[d][0];
            long e = grow[d][1];
            if (b == 0 && e == 0) continue;
            List<SDVariable> pieces = new ArrayList<>();
            if (mode.equals("reflect")) {
                if (b > 0) pieces.add(sd.reverse(axisSlice(sd, y, d, rank, 1, b + 1), d));
                pieces.add(y);
                if (e > 0) pieces.add(sd.reverse(axisSlice(sd, y, d, rank, -(e + 1), -1L), d));
            } else { // edge
                int[] reps = new int[rank];
                Arrays.fill(reps, 1);
                if (b > 0) {
                    reps[d] = (int) b;
                    pieces.add(sd.tile(axisSlice(sd, y, d, rank, 0, 1L), reps));
                }
                pieces.add(y);
                if (e > 0) {
                    reps[d] = (int) e;
                    pieces.add(sd.tile(axisSlice(sd, y, d, rank, -1, null), reps));
                }
            }
            y = sd.concat(d, pieces.toArray(new SDVariable[0]));
        }
        return y;
    }

    /** x[begin:end] along one axis (Python index semantics; end null = to the end), all of the others. */
    private static SDVariable axisSlice(SameDiff sd, SDVariable x, int axis, int rank, long begin, Long end) {
        long[] b = new long[rank];
        long[] e = new long[rank];
        b[axis] = begin;
        int mask = ((1 << rank) - 1) & ~(1 << axis);
        int endMask = mask;
        if (end == null) endMask |= 1 << axis; else e[axis] = end;
        return sd.stridedSlice(x, b, e, ones(rank), mask, endMask, 0, 0, 0);
    }
}
