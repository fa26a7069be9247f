package dev.graft.cli;

import dev.graft.GraftException;
import dev.graft.GraftModel;
import dev.graft.TensorInfo;
import dev.graft.io.Npy;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Input arrays for the CLI: {@code NAME=FILE.npy} pairs, or seeded random arrays for the model's inputs. */
final class Inputs {

    private Inputs() {
    }

    static Map<String, INDArray> parse(List<String> specs) {
        Map<String, INDArray> feeds = new LinkedHashMap<>();
        if (specs == null) return feeds;
        for (String spec : specs) {
            int eq = spec.indexOf('=');
            if (eq <= 0) {
                throw new GraftException("--input '" + spec + "': expected NAME=FILE.npy");
            }
            String name = spec.substring(0, eq);
            // A TensorFlow tensor name "x:0" names the same input as "x" (graft names inputs without ":0").
            if (name.endsWith(":0")) name = name.substring(0, name.length() - 2);
            feeds.put(name, Npy.read(Path.of(spec.substring(eq + 1))));
        }
        return feeds;
    }

    /**
     * Fills inputs that were not given with seeded random data: floats uniform in [-1, 1), integers 0,
     * booleans false. The first dynamic dimension takes {@code batch}; other dynamic dimensions need a file.
     */
    static Map<String, INDArray> completeRandom(List<TensorInfo> inputs, Map<String, INDArray> given, int batch, long seed) {
        Map<String, INDArray> feeds = new LinkedHashMap<>();
        for (TensorInfo in : inputs) {
            if (given.containsKey(in.name())) {
                feeds.put(in.name(), given.get(in.name()));
                continue;
            }
            long[] shape = in.shape();
            if (shape == null) {
                throw new GraftException("input '" + in.name() + "' has no declared shape; give it with --input " + in.name() + "=FILE.npy");
            }
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] < 0) {
                    if (d == 0) shape[d] = batch;
                    else throw new GraftException("input '" + in.name() + "' has dynamic dimension " + d + " ("
                            + in.shapeText() + "); give it with --input " + in.name() + "=FILE.npy");
                }
            }
            feeds.put(in.name(), random(in.dataType(), shape, seed + feeds.size()));
        }
        for (String name : given.keySet()) {
            if (!feeds.containsKey(name)) {
                throw new GraftException("Unknown input name '" + name + "', expected one of "
                        + inputs.stream().map(TensorInfo::name).toList());
            }
        }
        return feeds;
    }

    static INDArray random(DataType type, long[] shape, long seed) {
        if (type.isFPType()) {
            Nd4j.getRandom().setSeed(seed);
            return Nd4j.rand(DataType.FLOAT, shape).muli(2).subi(1).castTo(type);
        }
        return Nd4j.zeros(type, shape);
    }

    static Map<String, INDArray> forModel(GraftModel model, List<String> specs, int batch, long seed) {
        return completeRandom(model.inputs(), parse(specs), batch, seed);
    }
}
