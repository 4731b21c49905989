"""Every differentiable op of tinygrad_edu: one Function per op, forward and backward side by side.

One module per op family. A Function works on numpy arrays only and never imports tensor.py
(imports point down: engine/function → ops → tensor → nn). Each states its formula in its
docstring and its local derivative in `rule`, which is what `explain` prints at its step.

The op index below is the map a student follows from a public name to the math and the loops:
the op, its Function (module.Class here in ops/), the compiled kernels it calls (module.function
in tinygrad_edu._C, built from csrc/module.pyx), the plain-numpy reference loops that the tests
use as the oracle (module.function in tinygrad_edu/reference/), and the tests (file::the name,
or name prefix, of the test functions that check it by gradcheck, against the reference and
against PyTorch). tests/test_structure.py checks that every entry exists and that every
Function is listed.

>>> [entry.function for entry in INDEX if entry.op == "conv2d"]
['conv.Conv2dFn']
"""

from __future__ import annotations

from typing import NamedTuple


class OpEntry(NamedTuple):
    op: str             # the public name: Tensor method, tinygrad_edu.* or nn.functional.*
    function: str       # module.Class in tinygrad_edu/ops/
    kernels: tuple      # module.function in tinygrad_edu._C (compiled from csrc/module.pyx)
    reference: tuple    # module.function in tinygrad_edu/reference/
    tests: str          # tests/file.py::test-function name (or prefix)


_CONV_KERNELS = ("conv.conv2d_forward_fast", "conv.conv2d_backward_fast",
                 "conv.conv2d_grad_input_fast", "conv.conv2d_grad_weight_fast",
                 "conv.conv2d_forward_direct", "conv.conv2d_grad_input_direct",
                 "conv.conv2d_grad_weight_direct")
# conv2d's fast path for 3×3 stride-1 kernels: Winograd F(2×2, 3×3) (csrc/winograd.pyx)
_WINOGRAD_KERNELS = ("winograd.input_transform", "winograd.output_transform",
                     "winograd.output_adjoint", "winograd.input_adjoint")
_CONV_REFERENCE = ("conv.conv2d_forward", "conv.conv2d_backward")
_E = OpEntry

INDEX = (
    # op                   Function                        compiled kernels (_C)                         reference                                   tests
    _E("add",              "elementwise.AddFn",            (), (), "test_ops.py::test_add_sub_mul_broadcast"),
    _E("sub",              "elementwise.SubFn",            (), (), "test_ops.py::test_add_sub_mul_broadcast"),
    _E("mul",              "elementwise.MulFn",            (), (), "test_ops.py::test_add_sub_mul_broadcast"),
    _E("div",              "elementwise.DivFn",            (), (), "test_ops.py::test_div_broadcast"),
    _E("pow",              "elementwise.PowFn",            (), (), "test_ops.py::test_pow_broadcast"),
    _E("neg",              "elementwise.NegFn",            (), (), "test_ops.py::test_unary"),
    _E("exp",              "elementwise.ExpFn",            (), (), "test_ops.py::test_unary"),
    _E("log",              "elementwise.LogFn",            (), (), "test_ops.py::test_unary"),
    _E("sqrt",             "elementwise.SqrtFn",           (), (), "test_ops.py::test_unary"),
    _E("abs",              "elementwise.AbsFn",            (), (), "test_ops.py::test_unary"),
    _E("maximum",          "elementwise.MaximumFn",        (), (), "test_ops.py::test_maximum_minimum"),
    _E("minimum",          "elementwise.MinimumFn",        (), (), "test_ops.py::test_maximum_minimum"),
    _E("clamp",            "elementwise.ClipFn",           (), (), "test_ops.py::test_unary"),
    _E("where",            "elementwise.WhereFn",          (), (), "test_ops.py::test_where"),
    _E("to",               "elementwise.CastFn",           (), (), "test_ops.py::test_cast"),
    _E("relu",             "activation.ReLUFn",            (), (), "test_ops.py::test_unary"),
    _E("leaky_relu",       "activation.LeakyReLUFn",       (), (), "test_ops.py::test_unary"),
    _E("elu",              "activation.ELUFn",             (), (), "test_ops.py::test_unary"),
    _E("prelu",            "prelu.PReLUFn",                (), (), "test_prelu.py::test_prelu"),
    _E("rrelu",            "prelu.RReLUFn",                (), (), "test_prelu.py::test_rrelu"),
    _E("sigmoid",          "activation.SigmoidFn",         (), (), "test_ops.py::test_unary"),
    _E("tanh",             "activation.TanhFn",            (), (), "test_ops.py::test_unary"),
    _E("softmax",          "activation.SoftmaxFn",         (), (), "test_ops.py::test_softmax"),
    _E("log_softmax",      "activation.LogSoftmaxFn",      (), (), "test_ops.py::test_softmax"),
    _E("dropout",          "activation.DropoutFn",         (), (), "test_ops.py::test_dropout"),
    _E("matmul",           "matmul.MatMulFn",              (), (), "test_ops.py::test_matmul"),
    _E("reshape",          "movement.ReshapeFn",           (), (), "test_ops.py::test_reshape"),
    _E("permute",          "movement.PermuteFn",           (), (), "test_ops.py::test_reshape_permute"),
    _E("expand",           "movement.ExpandFn",            (), (), "test_ops.py::test_squeeze_unsqueeze_expand"),
    _E("getitem",          "movement.GetItemFn",           ("index_add.scatter_add",), (), "test_ops.py::test_getitem"),
    _E("setitem",          "movement.SetItemFn",           (), (), "test_inplace.py::test_setitem"),
    _E("flip",             "movement.FlipFn",              (), (), "test_ops.py::test_flip"),
    _E("as_strided",       "movement.AsStridedFn",         (), (), "test_inplace.py::test_view_"),
    _E("as_strided_scatter", "movement.AsStridedScatterFn", (), (), "test_inplace.py::test_view_"),
    _E("cat",              "movement.CatFn",               (), (), "test_ops.py::test_cat"),
    _E("stack",            "movement.StackFn",             (), (), "test_ops.py::test_cat_and_stack"),
    _E("pad",              "movement.PadFn",               (), (), "test_ops.py::test_pad"),
    _E("sum",              "reduce.SumFn",                 (), (), "test_ops.py::test_reductions"),
    _E("mean",             "reduce.MeanFn",                (), (), "test_ops.py::test_reductions"),
    _E("var",              "reduce.VarFn",                 (), (), "test_ops.py::test_reductions"),
    _E("std",              "reduce.StdFn",                 (), (), "test_nan_safe.py::test_std_fn_"),
    _E("amax",             "reduce.AMaxFn",                (), (), "test_ops.py::test_reductions"),
    _E("amin",             "reduce.AMinFn",                (), (), "test_ops.py::test_reductions"),
    _E("max(dim)",         "reduce.TakeAlongDimFn",        (), (), "test_ops.py::test_max_min_with_dim"),
    _E("linear",           "linear.LinearFn",              (), (), "test_layers.py::test_linear"),
    _E("batch_norm",       "norm.BatchNormFn",             (), (), "test_layers.py::test_batch_norm"),
    _E("embedding",        "embedding.EmbeddingFn",        ("index_add.scatter_add",), (), "test_layers.py::test_embedding"),
    _E("conv2d",           "conv.Conv2dFn",                _CONV_KERNELS + _WINOGRAD_KERNELS, _CONV_REFERENCE,
       "test_conv.py::test_conv2d_"),
    _E("conv1d",           "conv.Conv1dFn",                _CONV_KERNELS, _CONV_REFERENCE, "test_conv.py::test_conv1d_"),
    _E("conv_transpose2d", "conv.ConvTranspose2dFn",       _CONV_KERNELS,
       ("conv.conv_transpose2d_forward", "conv.conv_transpose2d_backward"), "test_conv.py::test_conv_transpose2d_"),
    _E("max_pool2d",       "pool.MaxPool2dFn",             ("max_pool.max_pool2d_forward", "max_pool.max_pool2d_backward"),
       ("pool.max_pool2d_forward", "pool.max_pool2d_backward"), "test_pool.py::test_max_pool2d_"),
    _E("avg_pool2d",       "pool.AvgPool2dFn",             ("avg_pool.avg_pool2d_forward", "avg_pool.avg_pool2d_backward"),
       ("pool.avg_pool2d_forward", "pool.avg_pool2d_backward"), "test_pool.py::test_avg_pool2d_"),
    _E("interpolate",      "pool.UpsampleNearest2dFn",     ("upsample.upsample_nearest2d_forward", "upsample.upsample_nearest2d_backward"),
       ("pool.upsample_nearest2d_forward", "pool.upsample_nearest2d_backward"), "test_pool.py::test_interpolate_"),
    _E("interpolate(bilinear)", "pool.UpsampleBilinear2dFn", (),
       ("upsample.upsample_bilinear2d_forward", "upsample.upsample_bilinear2d_backward"), "test_bilinear.py::test_bilinear_"),
    _E("max_unpool2d",     "pool.MaxUnpool2dFn",           (),
       ("pool.max_unpool2d_forward", "pool.max_unpool2d_backward"), "test_unpool.py::test_max_unpool2d_"),
    _E("nll_loss",         "loss.NLLFn",                   (), (), "test_losses.py::test_nll"),
    _E("cross_entropy",    "loss.CrossEntropyFn",          (), (), "test_losses.py::test_cross_entropy"),
    _E("binary_cross_entropy", "loss.BinaryCrossEntropyFn", (), (), "test_losses.py::test_regression_and_binary_losses"),
    _E("binary_cross_entropy_with_logits", "loss.BCEWithLogitsFn", (), (), "test_losses.py::test_regression_and_binary_losses"),
    _E("lstm_cell",        "rnn.LSTMCellFn",               (), ("lstm.lstm_forward",), "test_rnn.py::test_lstm_cell"),
    _E("lstm",             "rnn.LSTMSequenceFn",           (), ("lstm.lstm_forward", "lstm.lstm_backward"), "test_rnn.py::test_lstm_"),
    # the torch-level ops of issue 15 (math, scan, index, structure, linalg)
    _E("sin",              "math.SinFn",                   (), (), "test_new_ops.py::test_trig"),
    _E("cos",              "math.CosFn",                   (), (), "test_new_ops.py::test_trig"),
    _E("tan",              "math.TanFn",                   (), (), "test_new_ops.py::test_trig"),
    _E("erf",              "math.ErfFn",                   (), (), "test_new_ops.py::test_erf"),
    _E("softplus",         "math.SoftplusFn",              (), (), "test_new_ops.py::test_softplus"),
    _E("floor",            "math.RoundingFn",              (), (), "test_new_ops.py::test_rounding"),
    _E("ceil",             "math.RoundingFn",              (), (), "test_new_ops.py::test_rounding"),
    _E("round",            "math.RoundingFn",              (), (), "test_new_ops.py::test_rounding"),
    _E("sign",             "math.RoundingFn",              (), (), "test_new_ops.py::test_rounding"),
    _E("cumsum",           "scan.CumsumFn",                (), (), "test_new_ops.py::test_cumsum"),
    _E("logsumexp",        "scan.LogsumexpFn",             (), (), "test_new_ops.py::test_logsumexp"),
    _E("gather",           "index.GatherFn",               (), (), "test_new_ops.py::test_gather"),
    _E("sort",             "index.GatherFn",               (), (), "test_new_ops.py::test_sort"),
    _E("topk",             "index.GatherFn",               (), (), "test_new_ops.py::test_topk"),
    _E("scatter_add",      "index.ScatterAddFn",           (), (), "test_new_ops.py::test_scatter_add"),
    _E("index_select",     "index.IndexSelectFn",          (), (), "test_new_ops.py::test_index_select"),
    _E("masked_fill",      "index.MaskedFillFn",           (), (), "test_new_ops.py::test_masked_fill"),
    _E("repeat",           "structure.RepeatFn",           (), (), "test_new_ops.py::test_repeat"),
    _E("tril",             "structure.TriangleFn",         (), (), "test_new_ops.py::test_tril_triu"),
    _E("triu",             "structure.TriangleFn",         (), (), "test_new_ops.py::test_tril_triu"),
    _E("norm",             "linalg.NormFn",                (), (), "test_new_ops.py::test_norm"),
    _E("einsum",           "linalg.EinsumFn",              (), (), "test_new_ops.py::test_einsum"),
    _E("dot",              "linalg.EinsumFn",              (), (), "test_new_ops.py::test_dot_outer"),
    _E("outer",            "linalg.EinsumFn",              (), (), "test_new_ops.py::test_dot_outer"),
    _E("gru_cell",         "rnn.GRUCellFn",                (), (), "test_gru.py::test_gru_cell"),
    _E("gru",              "rnn.GRUSequenceFn",            (), (), "test_gru.py::test_gru_"),
)
