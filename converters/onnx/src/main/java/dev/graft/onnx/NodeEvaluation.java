package dev.graft.onnx;

import dev.graft.GraftException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Computes one ONNX node on given arrays, for constant folding and for the shape probe. */
final class NodeEvaluation {

    private NodeEvaluation() {
    }

    /**
     * Runs one node on given input arrays: converts it into a scratch SameDiff whose inputs are constants and
     * computes its outputs. Used to fold constant subgraphs and to probe shapes.
     */
    static Map<String, INDArray> evaluate(OnnxNode node, NodeImporter importer, int opset,
                                          Function<String, INDArray> inputValue) {
        SameDiff scratch = SameDiff.create();
        ImportContext child = new ImportContext(scratch, opset, name -> {
            throw new GraftException("internal error: shape of '" + name + "' asked in a scratch graph");
        });
        for (String in : node.inputs()) {
            if (!in.isEmpty() && !child.has(in)) {
                child.bindExisting(in, scratch.constant(child.uniqueName("input"), inputValue.apply(in)));
                child.markStatic(in);
            }
        }
        importer.importNode(node, child);
        List<String> sdNames = new ArrayList<>();
        for (String out : node.outputs()) {
            if (!out.isEmpty() && child.has(out) && child.value(out).getVariableType() == VariableType.ARRAY) {
                sdNames.add(child.value(out).name());
            }
        }
        Map<String, INDArray> computed = sdNames.isEmpty() ? Map.of() : scratch.output(Map.of(), sdNames);
        Map<String, INDArray> result = new LinkedHashMap<>();
        for (String out : node.outputs()) {
            if (out.isEmpty() || !child.has(out)) {
                continue;
            }
            SDVariable v = child.value(out);
            result.put(out, v.getVariableType() == VariableType.ARRAY ? computed.get(v.name()) : v.getArr());
        }
        return result;
    }
}
