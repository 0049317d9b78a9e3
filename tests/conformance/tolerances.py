"""The one place where comparison tolerances are defined.

Every case that loosens a tolerance passes its own value together with the
reason, so the reason sits next to the test.
"""

# fp32: the converted model runs the same math in a different order.
FP32 = {"atol": 1e-5, "rtol": 1e-5}

# Recurrent layers over long sequences (tens of steps): each step feeds the
# next, so float32 rounding differences between XLA's and LiteRT's matmul
# and activation kernels accumulate with the length.
RECURRENT_LONG = dict(atol=1e-4, rtol=1e-4)

# Our runtime against ai-edge-litert on the same file and inputs: both run
# float32 math, in possibly different orders (XNNPACK's blocked kernels
# against ours).
RUNTIME_AGREEMENT = FP32

# Keras-Hub tasks against keras-hub's own logits: the bar the Keras-Hub
# issue sets (upstream's export tests use 1e-3). Whole transformer stacks
# run different fp32 kernels (XLA's against LiteRT's matmuls, softmax and
# approximate GELU), and the differences add up over the layers.
HUB_TEXT = dict(atol=1e-4, rtol=1e-4)

# A detector's decoded boxes, in pixels: each coordinate is a center minus
# or plus half a size, both of a few hundred pixels, so float32 rounding
# leaves an absolute error of about 1e-5 of those (up to 7e-4 pixels seen)
# near 0, where a relative tolerance cannot absorb it. keras-hub's own
# decoding run on our raw heads agrees with ours to 1e-5.
HUB_BOXES = dict(atol=1e-3, rtol=1e-4)
