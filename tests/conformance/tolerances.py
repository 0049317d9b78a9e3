"""The one place where comparison tolerances are defined.

Every case that loosens a tolerance passes its own value together with the
reason, so the reason sits next to the test.
"""

# fp32: the converted model runs the same math in a different order.
FP32 = {"atol": 1e-5, "rtol": 1e-5}
