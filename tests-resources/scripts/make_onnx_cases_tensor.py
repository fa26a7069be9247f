"""graft's own cases for the shape and tensor op families: dynamic dimensions (two data sets with different
sizes per case), index inputs computed at run time, and semantics the backend suite leaves out (negative
pads, negative slice steps on static inputs, Split-18 num_outputs, more Einsum equations).

Run with python3 and the onnx package: it rewrites tests-resources/onnx-cases/{shape,tensor}/ (run with /usr/bin/python3).
Reference outputs are computed with numpy.
"""
import os
import shutil

import numpy as np
import onnx
from onnx import helper as h, TensorProto as T, numpy_helper as nh

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "onnx-cases")
SHAPE_CASES = {"dyn_reshape_chain", "dyn_unsq_sq"}
for family in ("shape", "tensor"):
    shutil.rmtree(os.path.join(ROOT, family), ignore_errors=True)


def save(name, nodes, inputs, outputs, inits, datasets, opset=13):
    name = os.path.join(ROOT, "shape" if name in SHAPE_CASES else "tensor", name)
    g=h.make_graph(nodes, os.path.basename(name), inputs, outputs, initializer=inits)
    m=h.make_model(g, opset_imports=[h.make_opsetid("",opset)]); m.ir_version=8
    os.makedirs(name, exist_ok=True); onnx.save(m, name+"/model.onnx")
    for k,(ins,outs) in enumerate(datasets):
        d=f"{name}/test_data_set_{k}"; os.makedirs(d, exist_ok=True)
        for i,a in enumerate(ins): open(f"{d}/input_{i}.pb","wb").write(nh.from_array(a).SerializeToString())
        for i,a in enumerate(outs): open(f"{d}/output_{i}.pb","wb").write(nh.from_array(a).SerializeToString())
rng=np.random.default_rng(0)
# 1. Slice with static starts/ends, dynamic batch and seq: x[:, 1:-1, ::2] and negative step
def ds(f, shapes):
    out=[]
    for s in shapes:
        x=rng.standard_normal(s).astype(np.float32); out.append(([x],[f(x)]))
    return out
X=h.make_tensor_value_info("x",T.FLOAT,["N","S",6])
Y=h.make_tensor_value_info("y",T.FLOAT,None)
save("dyn_slice",[h.make_node("Slice",["x","st","en","ax","sp"],["y"])],[X],[Y],
     [nh.from_array(np.array([1,-1],np.int64),"st"),nh.from_array(np.array([-1,-9223372036854775807],np.int64),"en"),
      nh.from_array(np.array([1,2],np.int64),"ax"),nh.from_array(np.array([1,-2],np.int64),"sp")],
     ds(lambda x: x[:,1:-1,::-2], [(2,5,6),(3,7,6)]))
# 2. Reshape from shape chain: y = reshape(x, [N, S*6]) via Shape/Gather/Unsqueeze/Concat
nodes=[h.make_node("Shape",["x"],["s"]), h.make_node("Gather",["s","i0"],["n"],axis=0),
       h.make_node("Unsqueeze",["n","a0"],["nu"]), h.make_node("Concat",["nu","m1"],["tgt"],axis=0),
       h.make_node("Reshape",["x","tgt"],["y"])]
save("dyn_reshape_chain",nodes,[X],[Y],[nh.from_array(np.array(0,np.int64),"i0"),nh.from_array(np.array([0],np.int64),"a0"),nh.from_array(np.array([-1],np.int64),"m1")],
     ds(lambda x: x.reshape(x.shape[0],-1), [(2,5,6),(3,7,6)]))
# 3. Expand to Shape of other input: y = expand(b, shape(x)) ; b [1,1,6]
Xb=h.make_tensor_value_info("b",T.FLOAT,[1,1,6])
def ds2(shapes):
    out=[]
    for s in shapes:
        x=rng.standard_normal(s).astype(np.float32); b=rng.standard_normal((1,1,6)).astype(np.float32)
        out.append(([x,b],[np.broadcast_to(b,s).copy()]))
    return out
save("dyn_expand",[h.make_node("Shape",["x"],["s"]),h.make_node("Expand",["b","s"],["y"])],[X,Xb],[Y],[],ds2([(2,5,6),(3,7,6)]))
# 4. ConstantOfShape + Range from dims: y = range(0, S) float ; z = zeros([N,S])
Z=h.make_tensor_value_info("z",T.INT64,None)
nodes=[h.make_node("Shape",["x"],["s"]),h.make_node("Gather",["s","i1"],["S"],axis=0),
       h.make_node("Range",["zero","S","one"],["y0"]),h.make_node("Cast",["y0"],["y"],to=1),
       h.make_node("Slice",["s","st","en"],["ns"]),h.make_node("ConstantOfShape",["ns"],["z"],value=nh.from_array(np.array([7],np.int64)))]
def ds3(shapes):
    out=[]
    for s in shapes:
        x=rng.standard_normal(s).astype(np.float32)
        out.append(([x],[np.arange(s[1]).astype(np.float32), np.full(s[:2],7,np.int64)]))
    return out
save("dyn_range_cos",nodes,[X],[Y,Z],[nh.from_array(np.array(1,np.int64),"i1"),nh.from_array(np.array(0,np.int64),"zero"),
     nh.from_array(np.array(1,np.int64),"one"),nh.from_array(np.array([0],np.int64),"st"),nh.from_array(np.array([2],np.int64),"en")],ds3([(2,5,6),(3,7,6)]))
# 5. Tile with repeats from shape: tile(b [1,1,6], [N, S, 1])
nodes=[h.make_node("Shape",["x"],["s"]),h.make_node("Slice",["s","st","en"],["ns"]),h.make_node("Concat",["ns","one1"],["reps"],axis=0),
       h.make_node("Tile",["b","reps"],["y"])]
def ds5(shapes):
    out=[]
    for s in shapes:
        x=rng.standard_normal(s).astype(np.float32); b=rng.standard_normal((1,1,6)).astype(np.float32)
        out.append(([x,b],[np.tile(b,(s[0],s[1],1))]))
    return out
save("dyn_tile",nodes,[X,Xb],[Y],[nh.from_array(np.array([0],np.int64),"st"),nh.from_array(np.array([2],np.int64),"en"),nh.from_array(np.array([1],np.int64),"one1")],ds5([(2,5,6),(3,7,6)]))
# 6. Pad with dynamic dims: edge + reflect + constant, static pads
for mode in ["constant","edge","reflect"]:
    def f(x, mode=mode):
        return np.pad(x, ((0,0),(1,2),(2,1)), mode=mode) if mode!="constant" else np.pad(x, ((0,0),(1,2),(2,1)), constant_values=0.5)
    ins=[nh.from_array(np.array([0,1,2,0,2,1],np.int64),"p")]
    nodes=[h.make_node("Pad",["x","p"]+(["v"] if mode=="constant" else []),["y"],mode=mode)]
    if mode=="constant": ins.append(nh.from_array(np.array(0.5,np.float32),"v"))
    save("dyn_pad_"+mode,nodes,[X],[Y],ins,ds(f,[(2,5,6),(3,7,6)]))
# 7. Split dynamic (equal) on dynamic axis S? use axis 2 static; and squeeze/unsqueeze with dynamic dims
Y2=h.make_tensor_value_info("y2",T.FLOAT,None)
save("dyn_split",[h.make_node("Split",["x"],["y","y2"],axis=2)],[X],[Y,Y2],[],
     [( [x],[x[:,:,:3],x[:,:,3:]]) for x in [rng.standard_normal(s).astype(np.float32) for s in [(2,5,6),(3,7,6)]]])
save("dyn_unsq_sq",[h.make_node("Unsqueeze",["x","a"],["u"]),h.make_node("Squeeze",["u","a"],["y"])],[X],[Y],[nh.from_array(np.array([1,-1],np.int64),"a")],
     ds(lambda x: x, [(2,5,6),(3,7,6)]))
# 8. Gather with dynamic data, GatherElements dynamic
Xi=h.make_tensor_value_info("i",T.INT64,["N","S",2])
def ds8(shapes):
    out=[]
    for s in shapes:
        x=rng.standard_normal(s).astype(np.float32); i=rng.integers(-6,6,(s[0],s[1],2)).astype(np.int64)
        out.append(([x,i],[np.take_along_axis(x, np.where(i<0,i+6,i), axis=2)]))
    return out
save("dyn_gather_elements",[h.make_node("GatherElements",["x","i"],["y"],axis=2)],[X,Xi],[Y],[],ds8([(2,5,6),(3,7,6)]))
save("dyn_gather",[h.make_node("Gather",["x","gi"],["y"],axis=1)],[X],[Y],[nh.from_array(np.array([[0,-1],[1,1]],np.int64),"gi")],
     ds(lambda x: np.take(x, [[0,x.shape[1]-1],[1,1]], axis=1), [(2,5,6),(3,7,6)]))
# 9. DepthToSpace with dynamic N,H,W
X4=h.make_tensor_value_info("x",T.FLOAT,["N",8,"H","W"])
def d2s(x,b=2):
    n,c,hh,w=x.shape; t=x.reshape(n,b,b,c//4,hh,w).transpose(0,3,4,1,5,2); return t.reshape(n,c//4,hh*b,w*b)
save("dyn_depthtospace",[h.make_node("DepthToSpace",["x"],["y"],blocksize=2,mode="DCR")],[X4],[Y],[],ds(d2s,[(1,8,2,3),(2,8,3,2)]))
def s2d(x,b=2):
    n,c,hh,w=x.shape; t=x.reshape(n,c,hh//b,b,w//b,b).transpose(0,3,5,1,2,4); return t.reshape(n,c*4,hh//b,w//b)
save("dyn_spacetodepth",[h.make_node("SpaceToDepth",["x"],["y"],blocksize=2)],[X4],[Y],[],ds(s2d,[(1,8,2,4),(2,8,4,2)]))
# 10. Split-18 num_outputs uneven
X1=h.make_tensor_value_info("x",T.FLOAT,[7])
Y3=h.make_tensor_value_info("y3",T.FLOAT,None)
save("split18_uneven",[h.make_node("Split",["x"],["y","y2","y3"],axis=0,num_outputs=3)],[X1],[Y,Y2,Y3],[],
     [([x],[x[:3],x[3:6],x[6:]]) for x in [rng.standard_normal(7).astype(np.float32)]], opset=18)
# 11. negative pads (crop) + edge, dynamic dims
def negpad(x, mode):
    y = x[:, 1:, :-2]
    return np.pad(y, ((0,0),(0,2),(1,0)), mode=mode)
for mode in ["edge","reflect","constant"]:
    save("pad_negative_"+mode,[h.make_node("Pad",["x","p"],["y"],mode=mode)],[X],[Y],[nh.from_array(np.array([0,-1,1,0,2,-2],np.int64),"p")],
         ds(lambda x, mode=mode: negpad(x,mode), [(2,5,6),(3,7,6)]))
# 12. einsum variety (static shapes)
def es(eq, shapes, name):
    ins=[h.make_tensor_value_info(f"x{i}",T.FLOAT,list(s)) for i,s in enumerate(shapes)]
    arrs=[rng.standard_normal(s).astype(np.float32) for s in shapes]
    save(name,[h.make_node("Einsum",[f"x{i}" for i in range(len(shapes))],["y"],equation=eq)],ins,[Y],[],[(arrs,[np.asarray(np.einsum(eq,*arrs),dtype=np.float32)])],opset=12)
es("bhid,bhjd->bhij",[(2,3,4,5),(2,3,6,5)],"einsum_attention")
es("ij,jk",[(3,4),(4,5)],"einsum_matmul_implicit")
es("i,j->ij",[(3,),(4,)],"einsum_outer")
es("ii->i",[(4,4)],"einsum_diag")
es("ii",[(4,4)],"einsum_trace")
es("ij,ij->",[(3,4),(3,4)],"einsum_dot_all")
es("...ij,...jk->...ik",[(2,3,4),(2,4,5)],"einsum_ellipsis_bmm")
es("bij->jb",[(2,1,3)],"einsum_size1_sum")
# 13. static slice with negative steps and extreme ends (static dims)
Xs=h.make_tensor_value_info("x",T.FLOAT,[5,6,7])
save("slice_static_neg",[h.make_node("Slice",["x","st","en","ax","sp"],["y"])],[Xs],[Y],
     [nh.from_array(np.array([-1,100,0],np.int64),"st"),nh.from_array(np.array([-9223372036854775807,1,100],np.int64),"en"),
      nh.from_array(np.array([0,1,2],np.int64),"ax"),nh.from_array(np.array([-2,-1,3],np.int64),"sp")],
     ds(lambda x: x[::-2, :1:-1, 0::3], [(5,6,7)]))
# 14. Gather scalar index on dynamic dim, axis 1 + 1-D data with 2-D indices
save("gather_scalar",[h.make_node("Gather",["x","gi"],["y"],axis=1)],[X],[Y],[nh.from_array(np.array(-1,np.int64),"gi")],
     ds(lambda x: x[:, -1], [(2,5,6),(3,7,6)]))
# 15. Gather with repeated indices (their gradients must add up), axis 0 and 1, dynamic dims
for axis in (0, 1):
    gi = np.array([[0, 1], [1, 1]], np.int64)
    save(f"gather_repeated_axis{axis}", [h.make_node("Gather", ["x", "gi"], ["y"], axis=axis)], [X], [Y],
         [nh.from_array(gi, "gi")], ds(lambda x, axis=axis: np.take(x, gi, axis=axis), [(2, 5, 6), (3, 7, 6)]))
# 16. Edge shapes: ConstantOfShape of an empty shape (a scalar), Expand of a scalar, Range with float steps
Sh=h.make_tensor_value_info("s",T.INT64,[0])
save("constantofshape_scalar",[h.make_node("ConstantOfShape",["s"],["y"],value=nh.from_array(np.array([2.5],np.float32)))],[Sh],[Y],[],
     [([np.zeros(0,np.int64)],[np.array(2.5,np.float32)])], opset=13)
Xsc=h.make_tensor_value_info("x",T.FLOAT,[])
Sv=h.make_tensor_value_info("s",T.INT64,[2])
save("expand_scalar",[h.make_node("Expand",["x","s"],["y"])],[Xsc,Sv],[Y],[],
     [([np.array(1.5,np.float32),np.array([2,3],np.int64)],[np.full((2,3),1.5,np.float32)])])
St=h.make_tensor_value_info("a",T.FLOAT,[]); Li=h.make_tensor_value_info("b",T.FLOAT,[]); De=h.make_tensor_value_info("c",T.FLOAT,[])
save("range_float_negative",[h.make_node("Range",["a","b","c"],["y"])],[St,Li,De],[Y],[],
     [([np.array(1.0,np.float32),np.array(-2.0,np.float32),np.array(-0.7,np.float32)],[np.arange(1.0,-2.0,-0.7).astype(np.float32)]),
      ([np.array(0.0,np.float32),np.array(0.0,np.float32),np.array(1.0,np.float32)],[np.zeros(0,np.float32)])], opset=11)
# 17. Empty slices of a vector (a shape prefix of length 0), static and run-time bounds
V=h.make_tensor_value_info("x",T.INT64,[3])
save("slice_empty_vector_static",[h.make_node("Slice",["x","st","en"],["y"]),h.make_node("Concat",["y","x"],["z"],axis=0)],[V],
     [h.make_tensor_value_info("z",T.INT64,None)],[nh.from_array(np.array([0],np.int64),"st"),nh.from_array(np.array([0],np.int64),"en")],
     [([np.array([4,5,6],np.int64)],[np.array([4,5,6],np.int64)])])
Bs=h.make_tensor_value_info("b",T.INT64,[1])
save("slice_empty_vector_runtime",[h.make_node("Slice",["x","b","b"],["y"])],[V,Bs],[Y],[],
     [([np.array([4,5,6],np.int64),np.array([2],np.int64)],[np.zeros(0,np.int64)]),
      ([np.array([4,5,6],np.int64),np.array([-9],np.int64)],[np.zeros(0,np.int64)])])
# 18. Einsum with dynamic sizes (attention scores over dynamic batch and sequence lengths)
Q=h.make_tensor_value_info("q",T.FLOAT,["B",2,"I",4]); K=h.make_tensor_value_info("k",T.FLOAT,["B",2,"J",4])
def ds18(shapes):
    out=[]
    for b,i,j in shapes:
        q=rng.standard_normal((b,2,i,4)).astype(np.float32); k=rng.standard_normal((b,2,j,4)).astype(np.float32)
        out.append(([q,k],[np.einsum("bhid,bhjd->bhij",q,k).astype(np.float32)]))
    return out
save("einsum_dynamic_attention",[h.make_node("Einsum",["q","k"],["y"],equation="bhid,bhjd->bhij")],[Q,K],[Y],[],ds18([(1,3,5),(2,4,2)]),opset=12)
E=h.make_tensor_value_info("x",T.FLOAT,["B","S",3])
save("einsum_dynamic_sum",[h.make_node("Einsum",["x"],["y"],equation="bsd->sb")],[E],[Y],[],
     [([x],[np.einsum("bsd->sb",x)]) for x in [rng.standard_normal(s).astype(np.float32) for s in [(2,3,3),(1,5,3)]]],opset=12)
