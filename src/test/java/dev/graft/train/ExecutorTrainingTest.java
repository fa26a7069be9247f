package dev.graft.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.graft.Graft;
import dev.graft.GraftModel;
import dev.graft.data.Dataset;
import dev.graft.surgery.HeadSpec;
import dev.graft.verify.Agreement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Fine-tuning on graft's executor (train.executor: fixed, the default) against SameDiff's own session
 * (samediff): the same weights after training. With bn: stats the BatchNormalization statistics are
 * re-estimated after every epoch while the executor keeps what only frozen weights feed: it must notice.
 */
class ExecutorTrainingTest {

    @ParameterizedTest
    @EnumSource(value = Freeze.BatchNorm.class, names = {"FROZEN", "STATS", "TRAIN"})
    void trainsAsSameDiffsSessionDoes(Freeze.BatchNorm bn) {
        Dataset data = FineTuneTest.dataset(FineTuneTest.quadrants(64, 11), false);
        TrainSettings settings = TrainSettings.defaults().withEpochs(3).withBatchSize(32).withLearningRate(2e-3)
                .withProgress(FineTuneTest.QUIET, true).withFeatureCache("off");
        GraftModel fixed = model(bn);
        FitResult f = fixed.fit(data, settings.withExecutor("fixed"));
        GraftModel session = model(bn);
        FitResult s = session.fit(data, settings.withExecutor("samediff"));
        // Six Adam steps; the executor's per-channel gradient sums add in another order (KernelShortcuts), and
        // Adam divides by the root of the squared gradients, so tiny gradients can differ in relative terms:
        // |a - b| <= 1e-5 * max|b| + 1e-4 * |b| per weight tensor (weights move by about 1e-2 in these steps).
        List<String> problems = new ArrayList<>();
        for (String p : fixed.parameterNames()) {
            var expected = session.sameDiff().getArrForVarName(p);
            Agreement a = Agreement.of(fixed.sameDiff().getArrForVarName(p), expected,
                    1e-5 * expected.amaxNumber().doubleValue(), 1e-4);
            if (!a.within()) problems.add(p + ": " + a.problem());
        }
        assertTrue(problems.isEmpty(), bn + ": " + problems);
        double lf = (double) f.history().get(2).get("train_loss");
        double ls = (double) s.history().get(2).get("train_loss");
        assertTrue(Math.abs(lf - ls) <= 1e-4 * Math.abs(ls), bn + ": train_loss " + lf + " vs " + ls);
    }

    private static GraftModel model(Freeze.BatchNorm bn) {
        return Graft.load(FineTuneTest.RESNET).cut("auto").attachHead(HeadSpec.softmax("quadrant", 4).withLayers(List.of(16)))
                .freeze(Freeze.last(2).withBatchNorm(bn));
    }
}
