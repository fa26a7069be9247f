package dev.graft.train;

import dev.graft.surgery.HeadSpec;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Per-head losses that leave missing labels out, entry by entry, as the seed's multi-task example does
 * with its '?' labels: the loss is the mean over the labels that are present, and zero (with zero
 * gradient) when none is. Missing: class index -1; NaN in float labels. NaN labels are replaced before
 * any arithmetic (0 * NaN is NaN).
 */
final class Losses {

    private Losses() {
    }

    static SDVariable masked(SameDiff g, HeadSpec spec, SDVariable logits, SDVariable labels, String name) {
        return switch (spec.output()) {
            case SOFTMAX -> crossEntropy(g, logits, labels, spec.size(), name);
            case SIGMOID -> binaryCrossEntropy(g, logits, labels, name);
            case LINEAR -> squaredError(g, logits, labels, name);
        };
    }

    /** Softmax cross-entropy over class indices [n] (-1 missing), from logits [n, k]. */
    private static SDVariable crossEntropy(SameDiff g, SDVariable logits, SDVariable labels, int classes, String name) {
        SDVariable present = labels.gte(0L).castTo(DataType.FLOAT);
        SDVariable index = g.math.max(labels, g.constant(0L)).castTo(DataType.INT);
        SDVariable onehot = g.oneHot(index, classes, -1, 1.0, 0.0, DataType.FLOAT);
        // log-softmax written out (max-shifted): ND4J 1.0.0-M2.1's LogSoftMax has a broken gradient.
        SDVariable shifted = logits.sub(logits.max(true, 1));
        SDVariable logProbs = shifted.sub(g.math.log(g.math.exp(shifted).sum(true, 1)));
        SDVariable nll = onehot.mul(logProbs).sum(1).neg();
        return nll.mul(present).sum().div(name, g.math.max(present.sum(), g.constant(1f)));
    }

    /** Binary cross-entropy per label from logits [n, k], labels [n, k] in {0, 1}, NaN missing (stable form). */
    private static SDVariable binaryCrossEntropy(SameDiff g, SDVariable z, SDVariable y, String name) {
        SDVariable isNan = g.math.isNaN(y);
        SDVariable present = isNan.castTo(DataType.FLOAT).rsub(1.0);
        SDVariable clean = g.where(g.zerosLike(y), y, isNan);
        // max(z, 0) - z * y + log(1 + exp(-|z|))
        SDVariable per = g.nn.relu(z, 0).sub(z.mul(clean)).add(g.math.log1p(g.math.exp(g.math.abs(z).neg())));
        return per.mul(present).sum().div(name, g.math.max(present.sum(), g.constant(1f)));
    }

    /** Mean squared error over present targets [n, k] (NaN missing). */
    private static SDVariable squaredError(SameDiff g, SDVariable p, SDVariable y, String name) {
        SDVariable isNan = g.math.isNaN(y);
        SDVariable present = isNan.castTo(DataType.FLOAT).rsub(1.0);
        SDVariable clean = g.where(g.zerosLike(y), y, isNan);
        SDVariable d = p.sub(clean).mul(present);
        return d.mul(d).sum().div(name, g.math.max(present.sum(), g.constant(1f)));
    }
}
