package dev.graft.tensorflow.ops;

import dev.graft.tensorflow.TfConverterRegistry;
import dev.graft.tensorflow.TfImportContext;
import dev.graft.tensorflow.TfNode;
import dev.graft.tensorflow.TfOpFamily;
import java.util.Arrays;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** Mean, Sum, Max, Min and Prod over constant axes ("reduction_indices"), with keep_dims. */
public final class TfReduceOps implements TfOpFamily {

    private interface Reduction {
        SDVariable apply(SameDiff sd, SDVariable x, boolean keep, int... axes);
    }

    @Override
    public void register(TfConverterRegistry.Builder r) {
        reduce(r, "Mean", SameDiff::mean);
        reduce(r, "Sum", SameDiff::sum);
        reduce(r, "Max", SameDiff::max);
        reduce(r, "Min", SameDiff::min);
        reduce(r, "Prod", SameDiff::prod);
    }

    private static void reduce(TfConverterRegistry.Builder r, String op, Reduction f) {
        r.importer(op, (n, ctx) -> {
            SDVariable x = ctx.input(n, 0);
            int rank = ctx.inputRank(n, 0);
            int[] axes = Arrays.stream(ctx.constantLongs(n, 1, "reduction_indices"))
                    .mapToInt(a -> TfImportContext.axis(n, a, rank)).distinct().sorted().toArray();
            boolean keep = n.getBool("keep_dims", false);
            if (axes.length == 0) {
                ctx.setOutput(n, 0, ctx.sd().identity(x)); // TensorFlow reduces over no axis: the input itself
                return;
            }
            ctx.setOutput(n, 0, f.apply(ctx.sd(), x, keep, axes));
        });
    }
}
