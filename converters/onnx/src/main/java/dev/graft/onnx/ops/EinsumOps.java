package dev.graft.onnx.ops;

import static dev.graft.onnx.ops.IndexOperands.ones;

import dev.graft.onnx.ConverterRegistry;
import dev.graft.onnx.ImportContext;
import dev.graft.onnx.OnnxNode;
import dev.graft.onnx.OnnxOpFamily;
import dev.graft.onnx.ops.IndexOperands.RuntimeInts;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Einsum with one or two operands, as transposes, reshapes and one matrix product. */
public final class EinsumOps implements OnnxOpFamily {

    @Override
    public void register(ConverterRegistry.Builder r) {
        r.importer("Einsum", 12, EinsumOps::einsum);
    }

    /**
     * Einsum over one or two operands (explicit or implicit output, '...' for leading dims of equal sizes):
     * repeated labels within an operand take the diagonal, labels used by one side only are summed out,
     * and a pair of operands contracts as one batched matrix product. Dynamic sizes are read from the
     * inputs' shapes at run time; a repeated (diagonal) label needs a known size.
     */
    private static void einsum(OnnxNode n, ImportContext ctx) {
        SameDiff sd = ctx.sd();
        RuntimeInts ri = new RuntimeInts(ctx);
        String eq = n.getString("equation", null);
        if (eq == null) throw n.error("attribute 'equation' is required");
        eq = eq.replace(" ", "");
        List<SDVariable> xs = ctx.inputs(n);
        String lhs = eq.contains("->") ? eq.substring(0, eq.indexOf("->")) : eq;
        String[] terms = lhs.split(",", -1);
        if (terms.length != xs.size()) throw n.error("equation has " + terms.length + " operands, node has " + xs.size());
        n.unsupportedIf(xs.size() > 2, "Einsum with more than two operands");

        // Expand '...' into digit labels (einsum labels are letters), aligned from the right.
        int ellipsisRank = 0;
        long[][] shapes = new long[xs.size()][];
        for (int i = 0; i < xs.size(); i++) {
            shapes[i] = ctx.inputShape(n, i);
            if (terms[i].contains("...")) {
                ellipsisRank = Math.max(ellipsisRank, shapes[i].length - (terms[i].length() - 3));
            }
        }
        String ell = "";
        for (int i = 0; i < ellipsisRank; i++) ell += (char) ('0' + i);
        List<String> ops = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) {
            String t = terms[i];
            if (t.contains("...")) {
                int own = shapes[i].length - (t.length() - 3);
                t = t.replace("...", ell.substring(ellipsisRank - own));
            }
            if (t.length() != shapes[i].length) throw n.error("operand " + i + " '" + terms[i] + "' does not match rank " + shapes[i].length);
            ops.add(t);
        }
        String out;
        if (eq.contains("->")) {
            out = eq.substring(eq.indexOf("->") + 2).replace("...", ell);
        } else {
            // Implicit output: ellipsis labels, then labels used exactly once, in alphabetical order.
            Map<Character, Integer> count = new LinkedHashMap<>();
            for (String t : ops) for (char ch : t.toCharArray()) count.merge(ch, 1, Integer::sum);
            StringBuilder sb = new StringBuilder(ell);
            count.entrySet().stream().filter(e -> e.getValue() == 1 && !Character.isDigit(e.getKey()))
                    .map(Map.Entry::getKey).sorted().forEach(sb::append);
            out = sb.toString();
        }
        // Size of each label: known (>= 0) or -1, with where to read it at run time.
        Map<Character, Long> sizes = new LinkedHashMap<>();
        Map<Character, SDVariable> sizeVars = new LinkedHashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            SDVariable dims = null;
            for (int j = 0; j < ops.get(i).length(); j++) {
                char ch = ops.get(i).charAt(j);
                long size = shapes[i][j];
                Long prev = sizes.get(ch);
                n.unsupportedIf(prev != null && prev >= 0 && size >= 0 && prev != size,
                        "Einsum with broadcasting label '" + ch + "' (" + prev + " vs " + size + ")");
                if (prev == null || prev < 0) {
                    sizes.put(ch, size);
                    if (size < 0) {
                        if (dims == null) dims = ri.dims(xs.get(i));
                        sizeVars.put(ch, ri.at(dims, j));
                    }
                }
            }
        }
        EinsumSizes es = new EinsumSizes(sd, ri, sizes, sizeVars);

        // Reduce each operand: diagonals, then labels needed neither by the output nor the other operand.
        List<SDVariable> vals = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            SDVariable v = xs.get(i);
            String t = ops.get(i);
            // Diagonal: for a repeated label, multiply by an identity mask and sum the second occurrence out.
            for (int j = 0; j < t.length(); j++) {
                char ch = t.charAt(j);
                int second = t.indexOf(ch, j + 1);
                while (second >= 0) {
                    long size = sizes.get(ch);
                    if (size < 0) throw n.error("repeated label '" + ch + "' needs a known size");
                    long[] maskShape = ones(t.length());
                    maskShape[j] = size;
                    maskShape[second] = size;
                    INDArray eye = Nd4j.eye(size).castTo(v.dataType()).reshape(maskShape);
                    v = es.sumOut(v.mul(ctx.constant(eye)), t, new int[]{second});
                    t = t.substring(0, second) + t.substring(second + 1);
                    second = t.indexOf(ch, j + 1);
                }
            }
            String other = ops.size() == 2 ? ops.get(1 - i) : "";
            List<Integer> sumAxes = new ArrayList<>();
            StringBuilder kept = new StringBuilder();
            for (int j = 0; j < t.length(); j++) {
                char ch = t.charAt(j);
                if (out.indexOf(ch) < 0 && other.indexOf(ch) < 0) sumAxes.add(j);
                else kept.append(ch);
            }
            if (!sumAxes.isEmpty()) v = es.sumOut(v, t, sumAxes.stream().mapToInt(Integer::intValue).toArray());
            vals.add(v);
            labels.add(kept.toString());
        }

        SDVariable result;
        String resultLabels;
        if (vals.size() == 1) {
            result = vals.get(0);
            resultLabels = labels.get(0);
        } else {
            String a = labels.get(0);
            String b = labels.get(1);
            StringBuilder batch = new StringBuilder();
            StringBuilder contract = new StringBuilder();
            StringBuilder left = new StringBuilder();
            StringBuilder right = new StringBuilder();
            for (char ch : a.toCharArray()) {
                if (b.indexOf(ch) >= 0) {
                    if (out.indexOf(ch) >= 0) batch.append(ch); else contract.append(ch);
                } else {
                    left.append(ch);
                }
            }
            for (char ch : b.toCharArray()) if (a.indexOf(ch) < 0) right.append(ch);
            SDVariable av = es.reshape(permuteTo(sd, vals.get(0), a, "" + batch + left + contract), batch, left, contract);
            SDVariable bv = es.reshape(permuteTo(sd, vals.get(1), b, "" + batch + contract + right), batch, contract, right);
            SDVariable mm = sd.mmul(av, bv);
            resultLabels = "" + batch + left + right;
            result = es.reshapeLabels(mm, resultLabels);
        }
        for (char ch : out.toCharArray()) {
            if (resultLabels.indexOf(ch) < 0) throw n.error("output label '" + ch + "' does not appear in the inputs");
        }
        // Labels still present but not in the output are summed out.
        List<Integer> extra = new ArrayList<>();
        StringBuilder kept = new StringBuilder();
        for (int j = 0; j < resultLabels.length(); j++) {
            if (out.indexOf(resultLabels.charAt(j)) < 0) extra.add(j); else kept.append(resultLabels.charAt(j));
        }
        if (!extra.isEmpty()) result = es.sumOut(result, resultLabels, extra.stream().mapToInt(Integer::intValue).toArray());
        ctx.setOutput(n, 0, permuteTo(sd, result, kept.toString(), out));
    }

    /** Label sizes of an Einsum, static where known, else read from the inputs' shapes at run time. */
    private record EinsumSizes(SameDiff sd, RuntimeInts ri, Map<Character, Long> sizes, Map<Character, SDVariable> vars) {

        boolean known(CharSequence labels) {
            for (int i = 0; i < labels.length(); i++) if (sizes.get(labels.charAt(i)) < 0) return false;
            return true;
        }

        long prod(CharSequence labels) {
            long p = 1;
            for (int i = 0; i < labels.length(); i++) p *= sizes.get(labels.charAt(i));
            return p;
        }

        SDVariable prodVar(CharSequence labels) {
            if (known(labels)) return ri.c(prod(labels));
            SDVariable p = ri.c(1);
            for (int i = 0; i < labels.length(); i++) {
                char ch = labels.charAt(i);
                p = p.mul(sizes.get(ch) >= 0 ? ri.c(sizes.get(ch)) : vars.get(ch));
            }
            return p;
        }

        /** Reshapes to one dimension per label group, e.g. [batch, left, contract]. */
        SDVariable reshape(SDVariable v, CharSequence... groups) {
            if (Arrays.stream(groups).allMatch(this::known)) {
                return sd.reshape(v, Arrays.stream(groups).mapToLong(this::prod).toArray());
            }
            return sd.reshape(v, IndexOperands.shapeOf(sd, Arrays.stream(groups).map(this::prodVar).toArray(SDVariable[]::new)));
        }

        /** Reshapes to one dimension per label. */
        SDVariable reshapeLabels(SDVariable v, String labels) {
            CharSequence[] groups = new CharSequence[labels.length()];
            for (int i = 0; i < groups.length; i++) groups[i] = labels.substring(i, i + 1);
            if (groups.length == 0) return sd.reshape(v, new long[0]);
            return reshape(v, groups);
        }

        /**
         * Sums out the given axes of a value labelled {@code labels}. Axes of known size 1 are squeezed:
         * SameDiff's reduce ops take a no-op shortcut there that fails at run time.
         */
        SDVariable sumOut(SDVariable v, String labels, int[] axes) {
            StringBuilder reduced = new StringBuilder();
            for (int a : axes) reduced.append(labels.charAt(a));
            if (known(reduced) && prod(reduced) == 1) {
                int[] desc = Arrays.stream(axes).boxed().sorted((x, y) -> y - x).mapToInt(Integer::intValue).toArray();
                for (int a : desc) v = sd.squeeze(v, a);
                return v;
            }
            return sd.sum(v, axes);
        }
    }

    private static SDVariable permuteTo(SameDiff sd, SDVariable v, String from, String to) {
        if (from.equals(to)) return v;
        int[] perm = new int[to.length()];
        for (int i = 0; i < perm.length; i++) perm[i] = from.indexOf(to.charAt(i));
        return sd.permute(v, perm);
    }
}
