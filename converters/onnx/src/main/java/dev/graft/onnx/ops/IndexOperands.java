package dev.graft.onnx.ops;

import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import java.util.Arrays;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Integer operands shared by the index-like ops (slice bounds, pads, split sizes, repeats): known at import
 * time or computed at run time, and the small integer arithmetic done on them in the graph.
 */
final class IndexOperands {

    private IndexOperands() {
    }

    static long[] ones(int k) {
        long[] a = new long[k];
        Arrays.fill(a, 1);
        return a;
    }

    /**
     * An integer vector operand (starts, pads, split sizes...): known at import time ({@code values}), or
     * computed at run time ({@code var}, with its static length), or absent (both null).
     */
    record Bounds(long[] values, SDVariable var, int length) {

        static Bounds of(long[] values) {
            return new Bounds(values, null, values == null ? 0 : values.length);
        }

        static Bounds input(OnnxNode n, ImportContext ctx, int i) {
            if (!n.hasInput(i)) {
                return of(null);
            }
            if (ctx.isStaticInput(n, i)) {
                return of(ctx.optionalLongs(n, i, "input " + i));
            }
            long[] s = ctx.inputShape(n, i);
            if (s.length != 1 || s[0] < 0) {
                throw n.error("input " + i + " must be a 1-D tensor of known length, found shape " + Arrays.toString(s));
            }
            return new Bounds(null, ctx.input(n, i).castTo(DataType.LONG), (int) s[0]);
        }

        boolean absent() {
            return values == null && var == null;
        }

        boolean isStatic() {
            return values != null;
        }

        /** Entry i as a run-time scalar. */
        SDVariable at(RuntimeInts ri, int i) {
            return values != null ? ri.c(values[i]) : ri.at(var, i);
        }

        /** The whole vector as a graph value. */
        SDVariable asVar(RuntimeInts ri) {
            return values != null ? ri.vec(values) : var;
        }
    }

    /**
     * Integer arithmetic built into the graph, for indices, sizes and shapes that are only known at run
     * time (slice bounds fed as inputs, pads computed from {@code Shape}, ...). Everything is int64.
     */
    static final class RuntimeInts {

        private final ImportContext ctx;
        private final SameDiff sd;

        RuntimeInts(ImportContext ctx) {
            this.ctx = ctx;
            this.sd = ctx.sd();
        }

        SameDiff sd() {
            return sd;
        }

        SDVariable lng(SDVariable v) {
            return v.dataType() == DataType.LONG ? v : v.castTo(DataType.LONG);
        }

        SDVariable c(long v) {
            return ctx.constant(Nd4j.scalar(DataType.LONG, v));
        }

        SDVariable vec(long... v) {
            return ctx.constant(Nd4j.createFromArray(v));
        }

        /** The input's shape as an int64 vector. */
        SDVariable dims(SDVariable x) {
            return sd.shape(x).castTo(DataType.LONG);
        }

        /** Element i of a vector, as a scalar. */
        SDVariable at(SDVariable vec, int i) {
            return sd.squeeze(sd.slice(vec, new int[]{i}, 1), 0);
        }

        /** [start, start+step, ...) up to end (exclusive), counted exactly: see FillOps.range. */
        SDVariable range(SDVariable start, SDVariable end, SDVariable step) {
            SDVariable count = sd.math().ceil(end.sub(start).castTo(DataType.DOUBLE).div(step.castTo(DataType.DOUBLE)));
            count = sd.math().max(count, ctx.scalar(DataType.DOUBLE, 0)).castTo(DataType.LONG);
            return start.add(sd.range(c(0), count, c(1), DataType.LONG).mul(step));
        }

        /**
         * Sum over one dimension of known size. A size-1 dimension is squeezed instead: SameDiff's reduce ops
         * take a no-op shortcut there that fails at run time.
         */
        SDVariable sumOver(SDVariable v, int dim, long size) {
            return size == 1 ? sd.squeeze(v, dim) : sd.sum(v, dim);
        }

        /** Sum of all entries of a vector of known length, as a scalar. */
        SDVariable sumAll(SDVariable vec, long length) {
            return length == 1 ? sd.reshape(vec, new long[0]) : sd.sum(vec);
        }

        /** 1 where v < 0, else 0. */
        SDVariable isNeg(SDVariable v) {
            return sd.lt(v, 0.0).castTo(DataType.LONG);
        }

        SDVariable clamp(SDVariable v, SDVariable lo, SDVariable hi) {
            return sd.math().max(lo, sd.math().min(v, hi));
        }

        /** ONNX index normalisation: a negative index counts from the end. */
        SDVariable wrapNegative(SDVariable idx, SDVariable dim) {
            return idx.add(isNeg(idx).mul(dim));
        }

        /** Exclusive cumulative sum of a small int64 vector (libnd4j's cumsum has no int64 kernel). */
        SDVariable exclusiveCumsum(SDVariable v) {
            return sd.cumsum(v.castTo(DataType.DOUBLE), true, false, 0).castTo(DataType.LONG);
        }

        /** Which of {@code 0..rank-1} appear in a run-time axes vector (negatives wrapped): [rank] of 0/1. */
        SDVariable axisMask(SDVariable axes, int k, int rank) {
            SDVariable a = wrapNegative(lng(axes), c(rank));
            SDVariable positions = vec(range(rank));
            SDVariable hits = sd.eq(sd.reshape(a, k, 1), sd.reshape(positions, 1, rank)).castTo(DataType.LONG);
            return sumOver(hits, 0, k);
        }

        /**
         * Keeps the entries of {@code values} (length {@code n}) where {@code keep} (0/1) is 1, in order;
         * {@code outLength}, the number of kept entries, must be known.
         */
        SDVariable compress(SDVariable values, SDVariable keep, int n, int outLength) {
            if (outLength == 0) {
                return ctx.constant(Nd4j.create(DataType.LONG, 0));
            }
            // Output position of each kept entry = number of kept entries before it.
            SDVariable pos = exclusiveCumsum(keep);
            SDVariable p = sd.reshape(vec(range(outLength)), outLength, 1);
            SDVariable select = sd.eq(sd.reshape(pos, 1, n), p).castTo(DataType.LONG).mul(sd.reshape(keep, 1, n));
            return sumOver(select.mul(sd.reshape(lng(values), 1, n)), 1, n);
        }

        static long[] range(int n) {
            long[] r = new long[n];
            for (int i = 0; i < n; i++) r[i] = i;
            return r;
        }
    }

    /** Random uniform [0,1) of a run-time shape, for Dropout in training mode. */

    static SDVariable shapeOf(SameDiff sd, SDVariable... scalars) {
        SDVariable[] parts = new SDVariable[scalars.length];
        for (int i = 0; i < scalars.length; i++) parts[i] = sd.reshape(scalars[i], 1);
        return sd.concat(0, parts);
    }
}
