package dev.graft.tensorflow;

import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TF_Buffer;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.OpList;

/**
 * TensorFlow's registry of op definitions, read once from the native library. Function bodies name a
 * node's outputs by output argument ("split:output:1"), so turning them into flat indices needs each op's
 * output argument list and the sizes of list arguments.
 */
final class TfOpDefs {
    private static volatile Map<String, OpDef> all;

    private TfOpDefs() {
    }

    static OpDef get(String op) {
        if (all == null) {
            synchronized (TfOpDefs.class) {
                if (all == null) all = load();
            }
        }
        return all.get(op);
    }

    private static Map<String, OpDef> load() {
        TensorFlow.version(); // loads the native library
        TF_Buffer buf = org.tensorflow.internal.c_api.global.tensorflow.TF_GetAllOpList();
        try {
            byte[] bytes = new byte[(int) buf.length()];
            new BytePointer(buf.data()).capacity(buf.length()).get(bytes);
            Map<String, OpDef> m = new HashMap<>();
            for (OpDef d : OpList.parseFrom(bytes).getOpList()) m.put(d.getName(), d);
            return m;
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException("TensorFlow's op registry could not be read", e);
        } finally {
            org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteBuffer(buf);
        }
    }

    /** How many tensors output argument {@code arg} of {@code def} (an op of type {@code opDef}) holds. */
    static int argSize(OpDef.ArgDef arg, NodeDef def) {
        if (!arg.getNumberAttr().isEmpty()) {
            AttrValue a = def.getAttrOrDefault(arg.getNumberAttr(), null);
            return a == null ? 1 : (int) a.getI();
        }
        if (!arg.getTypeListAttr().isEmpty()) {
            AttrValue a = def.getAttrOrDefault(arg.getTypeListAttr(), null);
            return a == null ? 1 : a.getList().getTypeCount();
        }
        return 1;
    }
}
