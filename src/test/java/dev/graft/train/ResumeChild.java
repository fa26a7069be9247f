package dev.graft.train;

import dev.graft.GraftModel;
import dev.graft.data.Dataset;
import java.nio.file.Path;

/**
 * Trains the model of {@link KilledRunResumeTest} in a separate JVM, so that the test can kill it while it
 * trains (as a user's Ctrl-C or a lost machine would) and resume from its checkpoints.
 */
public final class ResumeChild {

    public static void main(String[] args) {
        Path checkpoints = Path.of(args[0]);
        int epochs = Integer.parseInt(args[1]);
        GraftModel model = KilledRunResumeTest.model();
        Dataset data = KilledRunResumeTest.data();
        model.fit(data, KilledRunResumeTest.settings(epochs).withCheckpoints(checkpoints, false));
        System.out.println("finished");
    }
}
