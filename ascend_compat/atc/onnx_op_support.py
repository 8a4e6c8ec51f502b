"""ONNX operators the simulated atc accepts, per SoC family.

Source: the CANN "supported ONNX operators" lists ("支持ONNX算子清单"), which Huawei publishes per
CANN release:

* ``CANN_8_0_0`` -- CANN 8.0.0 commercial, "支持ONNX算子清单"
  https://www.hiascend.com/doc_center/source/zh/canncommercial/800/apiref/aolapi/operatorlist_00176.html
* ``CANN_5_0_4`` -- CANN 5.0.4 commercial, same list
  https://www.hiascend.com/doc_center/source/zh/canncommercial/5046/reference/fwoperatorlist/operatorlist_0071.html

The documents spell a few operators in their own way (``Argmax``, ``LogSoftMax``, ``Cumsum``,
``hardmax``); here they are written as ONNX ``op_type`` names (``ArgMax``, ``LogSoftmax``,
``CumSum``, ``Hardmax``). Ascend-specific entries of the lists (``AscendQuant``, ``RoiExtractor``,
...) are custom-domain operators and are left out.

Which SoC gets which list is a *simulation choice*, not a published fact: the older list stands
for the first-generation inference SoC (Ascend310), the newer list for every other SoC. It gives
learners a realistic experience (e.g. ``GridSample``, ``Einsum`` or ``LayerNormalization`` convert
for Ascend310P3 but not for Ascend310). The CANN 8.0.0 page notes the ONNX list applies to
"Atlas inference series" products and was validated with ONNX 1.12 / ONNX Runtime 1.14.
"""

from __future__ import annotations

CANN_5_0_4 = frozenset("""
Abs Acos Acosh AdaptiveAvgPool2D AdaptiveMaxPool2D Add Addcmul AffineGrid And ArgMax ArgMin Asin
Asinh Atan Atanh AveragePool BatchNormalization BatchMatMul BitShift Cast Ceil Celu Clip Concat
ConvTranspose CumSum Conv Compress Constant ConstantOfShape Cos Cosh DeformableConv2D Det DepthToSpace
Div Dropout Elu EmbeddingBag Equal Erf Exp Expand EyeLike Flatten Floor Gather GatherND GatherElements
Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual HardSigmoid Hardmax HardSwish
Identity If InstanceNormalization Less LeakyRelu LessOrEqual Log LogSoftmax LpNormalization LpPool LRN
LSTM MatMul Max MaxPool MaxRoiPool MaxUnpool Mean MeanVarianceNormalization Min Mod Mul Multinomial Neg
NonMaxSuppression NonZero Not OneHot Or RandomNormalLike RandomUniformLike RandomUniform Range
Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMin ReduceMean ReduceProd
ReduceSumSquare Resize Relu ReduceSum ReduceMax Reshape ReverseSequence RoiAlign Round PRelu Scatter
ScatterElements ScatterND Shrink Selu Shape Sigmoid Slice Softmax Softsign Softplus SpaceToDepth Split
Sqrt Squeeze Sub Sign Sin Sinh Size Sum Tanh TfIdfVectorizer Tile ThresholdedRelu TopK Transpose Pad
Pow Unsqueeze Where Xor
""".split())

CANN_8_0_0 = frozenset("""
Abs Acos Acosh AdaptiveAvgPool2D Add AffineGrid And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool
BatchNormalization BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor Cast Ceil Celu Clip Compress
Concat Constant ConstantOfShape Conv ConvTranspose Cos Cosh CumSum DeformableConv2D DepthToSpace Det
Div Dropout Einsum Elu EmbeddingBag Equal Erf Exp Expand EyeLike Flatten Floor Gather GatherElements
GatherND Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample GRU
Hardmax HardSigmoid HardSwish Identity If InstanceNormalization IsInf IsNaN LayerNormalization
LeakyRelu Less LessOrEqual Log LogSoftmax LpNormalization LpPool LRN LSTM MatMul Max MaxPool MaxRoiPool
MaxUnpool Mean MeanVarianceNormalization Min Mod Mul Multinomial Neg NonMaxSuppression NonZero Not
OneHot Or Pad Pow RandomNormal RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal
ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMean ReduceMin ReduceProd ReduceSumSquare
ReduceSum ReduceMax Relu Reshape Resize ReverseSequence RoiAlign Round PRelu Scatter ScatterElements
ScatterND Selu Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax SoftmaxCrossEntropyLoss Softplus
Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh TfIdfVectorizer ThresholdedRelu Tile TopK
Transpose Trilu Unsqueeze Where Xor
""".split())

LISTS = {"CANN 5.0.4": CANN_5_0_4, "CANN 8.0.0": CANN_8_0_0}


def list_name_for(soc_name: str) -> str:
    """Which published list the simulator applies to ``soc_name`` (see the module docstring)."""
    return "CANN 5.0.4" if soc_name == "Ascend310" else "CANN 8.0.0"


def supported_ops(soc_name: str) -> frozenset[str]:
    return LISTS[list_name_for(soc_name)]
