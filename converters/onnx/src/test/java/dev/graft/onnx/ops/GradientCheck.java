package dev.graft.onnx.ops;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.graft.GraftModel;
import dev.graft.onnx.BackendSuite;
import dev.graft.onnx.OnnxImporter;
import dev.graft.onnx.OnnxModelReader;
import dev.graft.onnx.OnnxTensors;
import dev.graft.onnx.conformance.ConformanceRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Trainability check for a family: imports the backend cases that use its ops and compares SameDiff's
 * gradients (of a random linear function of the outputs) with central finite differences, for a few
 * elements of every weight (VARIABLE) and every floating-point graph input. Catches ops whose forward pass
 * is right but whose backward pass fails or is wrong.
 */
final class GradientCheck {

    private GradientCheck() {
    }

    static List<String> check(Set<String> familyOps) {
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Path c : BackendSuite.allCases()) {
            try {
                OnnxModelReader reader = OnnxModelReader.of(c.resolve("model.onnx"));
                ModelProto model = reader.read();
                Set<String> ops = new TreeSet<>();
                for (NodeProto n : model.getGraph().getNodeList()) ops.add(n.getOpType());
                if (ops.stream().noneMatch(familyOps::contains) || !ConformanceRunner.SCOPE.containsAll(ops)) continue;
                Map<String, INDArray> feeds = feeds(model, c);
                if (feeds == null) continue;
                GraftModel m;
                try {
                    m = new OnnxImporter().importModel(model, reader);
                } catch (RuntimeException e) {
                    continue; // import failures are the conformance test's business
                }
                String problem = checkModel(m, feeds);
                checked++;
                if (problem != null) problems.add(c.getParent().getFileName() + "/" + c.getFileName() + ": " + problem);
            } catch (Exception e) {
                problems.add(c + ": " + e);
            }
        }
        if (checked == 0) problems.add("no case checked for " + familyOps);
        return problems;
    }

    private static Map<String, INDArray> feeds(ModelProto model, Path c) throws Exception {
        Set<String> inits = new TreeSet<>();
        model.getGraph().getInitializerList().forEach(t -> inits.add(t.getName()));
        Map<String, INDArray> feeds = new LinkedHashMap<>();
        int i = 0;
        for (ValueInfoProto v : model.getGraph().getInputList()) {
            if (inits.contains(v.getName())) continue;
            Path f = c.resolve("test_data_set_0").resolve("input_" + i++ + ".pb");
            if (!Files.exists(f)) return null;
            feeds.put(v.getName(), OnnxTensors.toArray(TensorProto.parseFrom(Files.readAllBytes(f)), null, f.toString()));
        }
        return feeds;
    }

    private static String checkModel(GraftModel m, Map<String, INDArray> feeds) {
        SameDiff sd = m.sameDiff();
        Random rnd = new Random(42);
        Map<String, INDArray> outs = m.run(feeds, List.of());
        SDVariable loss = null;
        for (String name : m.outputNames()) {
            INDArray y = outs.get(name);
            if (!y.dataType().isFPType()) continue;
            INDArray r = Nd4j.rand(DataType.DOUBLE, y.shape()).subi(0.5);
            SDVariable term = sd.getVariable(name).castTo(DataType.DOUBLE).mul(sd.constant(r)).sum();
            loss = loss == null ? term : loss.add(term);
        }
        if (loss == null) return null;
        String lossName = loss.name();
        // SameDiff differentiates only with respect to VARIABLEs: turn the floating-point inputs into ones
        // (node tests feed the weights as inputs, and inputs' gradients check weightless ops like pooling).
        Map<String, INDArray> rest = new HashMap<>();
        for (Map.Entry<String, INDArray> e : feeds.entrySet()) {
            if (e.getValue().dataType().isFPType()) {
                SDVariable v = sd.getVariable(e.getKey());
                v.setArray(e.getValue().dup());
                sd.convertToVariable(v);
            } else {
                rest.put(e.getKey(), e.getValue());
            }
        }
        feeds = rest;
        sd.setLossVariables(lossName);
        List<String> targets = new ArrayList<>();
        for (SDVariable v : sd.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE && v.dataType().isFPType()) targets.add(v.name());
        }
        if (targets.isEmpty()) return null;
        Map<String, INDArray> grads;
        try {
            grads = sd.calculateGradients(feeds, targets.toArray(new String[0]));
        } catch (RuntimeException e) {
            return "backward pass failed: " + e.getMessage();
        }
        for (String t : targets) {
            INDArray g = grads.get(t);
            if (g == null) return "no gradient for '" + t + "'";
            INDArray arr = sd.getVariable(t).getArr();
            Map<String, INDArray> f = feeds;
            for (int k = 0; k < 3; k++) {
                long idx = (long) (rnd.nextDouble() * arr.length());
                double orig = arr.getDouble(idx);
                double eps = 1e-2;
                arr.putScalar(idx, orig + eps);
                double up = sd.output(f, lossName).get(lossName).getDouble(0);
                arr.putScalar(idx, orig - eps);
                double down = sd.output(f, lossName).get(lossName).getDouble(0);
                arr.putScalar(idx, orig);
                double fd = (up - down) / (2 * eps);
                double an = g.getDouble(idx);
                if (Math.abs(fd - an) > 1e-2 * Math.max(1, Math.abs(fd))) {
                    return "gradient of '" + t + "' at " + idx + ": SameDiff " + an + ", finite difference " + fd;
                }
            }
        }
        return null;
    }
}
