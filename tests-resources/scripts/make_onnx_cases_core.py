#!/usr/bin/env python3
"""Generates graft's own backend-style cases (model.onnx + test_data_set_0) for the activation,
elementwise and Gemm families: semantics the ONNX backend suite does not cover (Gelu, legacy
broadcast/axis attributes, integer Div with negative operands, Pow type mixes, numpy MatMul with 1-D
and broadcast batch operands, dynamic dims). Expected outputs are computed with numpy from the ONNX
operator definitions. Needs python3 with numpy and onnx (tested with onnx 1.12). Re-run after editing:
    /usr/bin/python3 tests-resources/scripts/make_onnx_cases_core.py
"""
import math
import os

import numpy as np
import onnx
from onnx import helper as h, numpy_helper as nh

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "onnx-cases")
rng = np.random.default_rng(0)
N = h.make_node
family = None


def case(name, opset, nodes, inputs, outputs, inits=None, dims=None):
    """inputs/outputs/inits: name -> array; dims: input name -> shape with symbolic (dynamic) dims."""
    inits = inits or {}
    dims = dims or {}
    d = os.path.join(HERE, family, 'test_' + name)
    os.makedirs(d + '/test_data_set_0', exist_ok=True)
    tt = lambda a: onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype]
    g = h.make_graph(nodes, name,
                     [h.make_tensor_value_info(k, tt(v), dims.get(k, v.shape)) for k, v in inputs.items()],
                     [h.make_tensor_value_info(k, tt(v), v.shape) for k, v in outputs.items()],
                     initializer=[nh.from_array(v, k) for k, v in inits.items()])
    m = h.make_model(g, opset_imports=[h.make_opsetid('', opset)], producer_name='graft generate.py')
    m.ir_version = 7
    onnx.save(m, d + '/model.onnx')
    for i, (k, v) in enumerate(inputs.items()):
        with open(f'{d}/test_data_set_0/input_{i}.pb', 'wb') as f:
            f.write(nh.from_array(v, k).SerializeToString())
    for i, (k, v) in enumerate(outputs.items()):
        with open(f'{d}/test_data_set_0/output_{i}.pb', 'wb') as f:
            f.write(nh.from_array(v, k).SerializeToString())


f32 = np.float32
X = (rng.standard_normal((3, 4)) * 3).astype(f32)
A = rng.standard_normal((2, 3, 4, 5)).astype(f32)
erf = np.vectorize(math.erf)

# ------------------------------------------------------------------ activation
family = 'activation'
case('gelu_none', 20, [N('Gelu', ['x'], ['y'])], {'x': X},
     {'y': (0.5 * X * (1 + erf(X / np.sqrt(2)))).astype(f32)})
case('gelu_tanh', 20, [N('Gelu', ['x'], ['y'], approximate='tanh')], {'x': X},
     {'y': (0.5 * X * (1 + np.tanh(np.sqrt(2 / np.pi) * (X + 0.044715 * X ** 3)))).astype(f32)})
s = np.array([0.1, 0.2, 0.3], f32)
case('prelu_legacy_channels_weight', 6, [N('PRelu', ['x', 's'], ['y'])], {'x': A},
     {'y': np.where(A > 0, A, A * s[:, None, None])}, {'s': s})
case('prelu_legacy_channels_dynamic', 6, [N('PRelu', ['x', 's'], ['y'])], {'x': A},
     {'y': np.where(A > 0, A, A * s[:, None, None])}, {'s': s}, dims={'x': ['N', 3, 'H', 'W']})
case('prelu7_slope_c11', 9, [N('PRelu', ['x', 's'], ['y'])], {'x': A},
     {'y': np.where(A > 0, A, A * s[:, None, None])}, {'s': s[:, None, None]})
case('prelu_int32', 16, [N('PRelu', ['x', 's'], ['y'])],
     {'x': np.array([-3, 2, -1, 4], np.int32), 's': np.array([2], np.int32)}, {'y': np.array([-6, 2, -2, 4], np.int32)})
case('elu_alpha', 6, [N('Elu', ['x'], ['y'], alpha=0.5)], {'x': X},
     {'y': np.where(X > 0, X, 0.5 * (np.exp(X) - 1)).astype(f32)})
case('selu_attrs', 6, [N('Selu', ['x'], ['y'], alpha=2.0, gamma=3.0)], {'x': X},
     {'y': (3.0 * np.where(X > 0, X, 2.0 * (np.exp(X) - 1))).astype(f32)})
case('celu_alpha', 12, [N('Celu', ['x'], ['y'], alpha=2.0)], {'x': X},
     {'y': (np.maximum(0, X) + np.minimum(0, 2 * (np.exp(X / 2) - 1))).astype(f32)})
case('hardsigmoid_attrs', 6, [N('HardSigmoid', ['x'], ['y'], alpha=0.3, beta=0.4)], {'x': X},
     {'y': np.clip(0.3 * X + 0.4, 0, 1).astype(f32)})
case('hardswish', 14, [N('HardSwish', ['x'], ['y'])], {'x': X}, {'y': (X * np.clip(X / 6 + 0.5, 0, 1)).astype(f32)})
big = np.array([-100, -20, 0, 20, 100], f32)
case('softplus_large', 1, [N('Softplus', ['x'], ['y'])], {'x': big},
     {'y': np.log1p(np.exp(big.astype(np.float64))).astype(f32)})
D = rng.standard_normal((3, 4))
case('softplus_double', 1, [N('Softplus', ['x'], ['y'])], {'x': D}, {'y': np.log1p(np.exp(D))})
case('relu_opset1', 1, [N('Relu', ['x'], ['y'], consumed_inputs=[0])], {'x': X}, {'y': np.maximum(X, 0)})
case('clip_legacy_min_only', 6, [N('Clip', ['x'], ['y'], min=-0.5)], {'x': X}, {'y': np.maximum(X, -0.5)})
case('clip_int32_min_above_max', 13, [N('Clip', ['x', 'mn', 'mx'], ['y'])], {'x': np.array([-5, 0, 5, 9], np.int32)},
     {'y': np.array([2, 2, 2, 2], np.int32)}, {'mn': np.array(4, np.int32), 'mx': np.array(2, np.int32)})
case('clip_trainable_bounds', 13, [N('Clip', ['x', 'mn', 'mx'], ['y'])], {'x': X}, {'y': np.clip(X, -1, 1.5)},
     {'mn': np.array(-1, f32), 'mx': np.array(1.5, f32)})
case('clip_trainable_min_above_max', 13, [N('Clip', ['x', 'mn', 'mx'], ['y'])], {'x': X},
     {'y': np.full_like(X, -1)}, {'mn': np.array(1, f32), 'mx': np.array(-1, f32)})

# ------------------------------------------------------------------ elementwise
family = 'elementwise'
a = np.array([7, -7, 7, -7, 1, -1, 0, 9], np.int32)
b = np.array([2, 2, -2, -2, 3, 3, 5, -4], np.int32)
case('div_int32_negative', 13, [N('Div', ['a', 'b'], ['y'])], {'a': a, 'b': b}, {'y': np.trunc(a / b).astype(np.int32)})
case('div_int64_negative', 13, [N('Div', ['a', 'b'], ['y'])], {'a': a.astype(np.int64), 'b': b.astype(np.int64)},
     {'y': np.trunc(a / b).astype(np.int64)})
x = np.array([2, 3, 4, 5, -2], np.int32)
e = np.array([0.5, 1.5, 0.5, 2.0, 3.0], f32)
case('pow_int32_float_exponent', 15, [N('Pow', ['x', 'e'], ['y'])], {'x': x, 'e': e},
     {'y': np.power(x.astype(np.float64), e.astype(np.float64)).astype(np.int32)})
B = rng.standard_normal((3, 4)).astype(f32)
case('add_legacy_axis1', 6, [N('Add', ['a', 'b'], ['y'], broadcast=1, axis=1)], {'a': A},
     {'y': A + B[None, :, :, None]}, {'b': B})
case('add_legacy_axis1_dynamic', 6, [N('Add', ['a', 'b'], ['y'], broadcast=1, axis=1)], {'a': A},
     {'y': A + B[None, :, :, None]}, {'b': B}, dims={'a': ['N', 3, 4, 'W']})
B2 = rng.standard_normal((5,)).astype(f32)
case('mul_legacy_suffix', 6, [N('Mul', ['a', 'b'], ['y'], broadcast=1)], {'a': A, 'b': B2}, {'y': A * B2})
case('sub_opset1_same_shape', 1, [N('Sub', ['a', 'b'], ['y'], consumed_inputs=[0, 0])], {'a': A, 'b': A * 2},
     {'y': A - A * 2})
ex = np.array([1., 2.], f32)
case('pow_legacy_axis0', 6, [N('Pow', ['a', 'b'], ['y'], broadcast=1, axis=0)], {'a': np.abs(A), 'b': ex},
     {'y': np.abs(A) ** ex[:, None, None, None]})
case('max_opset6', 6, [N('Max', ['a', 'b', 'c'], ['y'])], {'a': X, 'b': X * 2, 'c': -X},
     {'y': np.maximum(np.maximum(X, X * 2), -X)})
case('mean_opset6', 6, [N('Mean', ['a', 'b', 'c'], ['y'])], {'a': X, 'b': X * 2, 'c': -X},
     {'y': ((X + X * 2 - X) / 3).astype(f32)})

# ------------------------------------------------------------------ gemm
family = 'gemm'
v = rng.standard_normal(4).astype(f32)
M3 = rng.standard_normal((2, 4, 3)).astype(f32)
M2 = rng.standard_normal((3, 4)).astype(f32)
mm = lambda: [N('MatMul', ['a', 'b'], ['y'])]
case('matmul_1d_1d', 13, mm(), {'a': v, 'b': v * 2}, {'y': np.array(np.matmul(v, v * 2), f32)})
case('matmul_1d_3d', 13, mm(), {'a': v, 'b': M3}, {'y': np.matmul(v, M3)})
M3t = M3.transpose(0, 2, 1).copy()
case('matmul_3d_1d', 13, mm(), {'a': M3t, 'b': v}, {'y': np.matmul(M3t, v)})
case('matmul_3d_2d_weight', 13, mm(), {'a': M3}, {'y': np.matmul(M3, M2)}, {'b': M2})
case('matmul_3d_2d_dynamic', 13, mm(), {'a': M3}, {'y': np.matmul(M3, M2)}, {'b': M2}, dims={'a': ['N', 'S', 3]})
case('matmul_2d_3d', 13, mm(), {'a': M2, 'b': M3}, {'y': np.matmul(M2, M3)})
M4a = rng.standard_normal((2, 1, 3, 4)).astype(f32)
M4b = rng.standard_normal((1, 5, 4, 2)).astype(f32)
case('matmul_broadcast_batch', 13, mm(), {'a': M4a, 'b': M4b}, {'y': np.matmul(M4a, M4b)})
M3b = rng.standard_normal((5, 4, 2)).astype(f32)
case('matmul_4d_3d', 13, mm(), {'a': M4a, 'b': M3b}, {'y': np.matmul(M4a, M3b)})
ia = rng.integers(-5, 5, (2, 3, 4)).astype(np.int32)
ib = rng.integers(-5, 5, (2, 4, 2)).astype(np.int32)
case('matmul_int32_3d', 13, mm(), {'a': ia, 'b': ib}, {'y': np.matmul(ia, ib)})
ha = rng.standard_normal((2, 3, 4)).astype(np.float16)
hb = rng.standard_normal((4, 2)).astype(np.float16)
case('matmul_float16', 13, mm(), {'a': ha, 'b': hb},
     {'y': np.matmul(ha.astype(f32), hb.astype(f32)).astype(np.float16)})
GA = rng.standard_normal((2, 3)).astype(f32)
GB = rng.standard_normal((4, 3)).astype(f32)
GC = rng.standard_normal((2, 4)).astype(f32)
case('gemm_legacy_no_broadcast', 6, [N('Gemm', ['a', 'b', 'c'], ['y'], transB=1, alpha=2.0, beta=0.5)],
     {'a': GA, 'b': GB, 'c': GC}, {'y': 2 * GA @ GB.T + 0.5 * GC})
case('gemm_legacy_broadcast_scalar', 6, [N('Gemm', ['a', 'b', 'c'], ['y'], transB=1, broadcast=1)],
     {'a': GA, 'b': GB, 'c': np.array([3.], f32)}, {'y': GA @ GB.T + 3})
ga = rng.integers(-5, 5, (2, 3)).astype(np.int64)
gb = rng.integers(-5, 5, (3, 4)).astype(np.int64)
gc = rng.integers(-5, 5, (4,)).astype(np.int64)
case('gemm_int64', 13, [N('Gemm', ['a', 'b', 'c'], ['y'])], {'a': ga, 'b': gb, 'c': gc}, {'y': ga @ gb + gc})
case('matmul_3d_2d_dynamic_k', 13, mm(), {'a': M3, 'b': M2}, {'y': np.matmul(M3, M2)},
     dims={'a': ['N', 'S', 'K'], 'b': ['K', 'M']})
