"""ONNX export and import: `export(model, example_input, path)` and `load(path)`.

    import tinygrad_edu.onnx as tonnx
    tonnx.export(model, example_input, "model.onnx")   # traced once; any batch size
    model = tonnx.load("model.onnx")                    # an nn.Module of our layers

Needs the optional packages onnx (and onnxruntime to run the files elsewhere):
`pip install -e ".[onnx]"`.

How it works: _trace.py records one forward pass (every Function with its arguments);
_export_ops.py / _export_more_ops.py turn each Function into ONNX nodes; export.py assembles,
checks and writes the graph. load.py reads a graph back, each node through a builder of
_load_ops.py / _load_more_ops.py into our layers (weights as Parameters) or Tensor ops.

Coverage (our Function → ONNX; ONNX → what load builds):

    LinearFn                  Gemm (2-D input), else Transpose+MatMul+Add  → nn.Linear (Gemm)
    MatMulFn                  MatMul                                       → @
    AddFn SubFn MulFn DivFn   Add Sub Mul Div                              → + − · /
    PowFn NegFn ExpFn LogFn   Pow Neg Exp Log                              → ** − exp log
    SqrtFn AbsFn              Sqrt Abs                                     → sqrt abs
    MaximumFn MinimumFn       Max Min                                      → maximum minimum
    ClipFn WhereFn CastFn     Clip Where Cast                              → clamp where to
    Conv2dFn Conv1dFn         Conv (strides, pads, dilations, group)       → nn.Conv2d / Conv1d
    ConvTranspose2dFn         ConvTranspose (output_padding)               → nn.ConvTranspose2d
    MaxPool2dFn AvgPool2dFn   MaxPool AveragePool (ceil_mode, count_include_pad) → nn.MaxPool2d / AvgPool2d
    UpsampleNearest2dFn       Resize nearest (or two Gathers)              → nn.Upsample
    UpsampleBilinear2dFn      Resize linear (or two MatMuls)               → nn.Upsample(bilinear)
    BatchNormFn (eval)        BatchNormalization                           → nn.BatchNorm1d / 2d
    DropoutFn                 Identity (Dropout → nn.Dropout, identity in eval)
    ReLUFn LeakyReLUFn ELUFn  Relu LeakyRelu Elu                           → nn.ReLU LeakyReLU ELU
    SigmoidFn TanhFn          Sigmoid Tanh                                 → nn.Sigmoid Tanh
    SoftmaxFn LogSoftmaxFn    Softmax LogSoftmax (axis)                    → nn.Softmax LogSoftmax
    PReLUFn RReLUFn (eval)    PRelu, LeakyRelu                             → nn.PReLU
    SinFn CosFn TanFn ErfFn   Sin Cos Tan Erf                              → sin cos tan erf
    SoftplusFn                Softplus                                     → softplus
    ReshapeFn                 Flatten or Reshape (batch axis −1)           → nn.Flatten / reshape
    PermuteFn ExpandFn        Transpose Expand                             → permute expand
    GetItemFn                 Slice, Gather, Squeeze, Unsqueeze            → indexing
    FlipFn                    Slice with step −1                           → flip + indexing
    CatFn StackFn PadFn       Concat, Unsqueeze+Concat, Pad                → cat, reshape, F.pad
    SumFn MeanFn AMaxFn AMinFn  ReduceSum ReduceMean ReduceMax ReduceMin   → sum mean amax amin
    LogsumexpFn CumsumFn      ReduceLogSumExp CumSum                       → logsumexp cumsum
    EmbeddingFn               Gather                                       → nn.Embedding
    LSTMSequenceFn            LSTM (gates i,o,f,c ← our i,f,g,o)           → nn.LSTM
    GRUSequenceFn             GRU (z,r,h ← r,z,n; linear_before_reset=1)   → nn.GRU
    nn.RNN (a module)         RNN (one node per layer, bidirectional)      → nn.RNN
    (load only)               Shape Constant ConstantOfShape Identity GlobalAveragePool

Everything else (losses, cells, in-place writes, var/std, ...) is refused with its name; so is
a node that load cannot build (with its name and op type).
"""

try:
    import onnx  # noqa: F401
except ImportError as err:  # exercised in tests/test_onnx.py with onnx hidden
    raise ImportError(
        "tinygrad_edu.onnx needs the optional package 'onnx' (and 'onnxruntime' to run the "
        "exported files): install the extra with  pip install -e \".[onnx]\"  (or "
        "pip install onnx onnxruntime)") from err

from .export import UnsupportedOpError, export, to_onnx  # noqa: E402
from .load import OnnxModel, load  # noqa: E402

__all__ = ["export", "to_onnx", "load", "OnnxModel", "UnsupportedOpError"]
