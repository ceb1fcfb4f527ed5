"""From a Pareto set to a device: choose one member, train it and keep its weights, export it (FP32 and INT8
ONNX with a card), and re-measure it against the run's predictions and limits.

- ``choose``: one member by genome, at the knee, or the best in one objective under limits;
- ``trained``: training on the user's data and safetensors weights with a JSON record;
- ``export``: one network as ONNX with its card; ``quantize``: INT8 with ONNX Runtime;
- ``verify``: measured against predicted latency, with error bars, and the limits checked.
"""
from .choose import Choice, choose, choose_in_run, knee_index, parse_limits

__all__ = ["Choice", "choose", "choose_in_run", "knee_index", "parse_limits"]
