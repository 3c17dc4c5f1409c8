"""Code that runs elsewhere, packaged as it is: the scheduled drift function (AWS Lambda's Python runtime).

``DRIFT_FUNCTION_FILES`` lists, relative to the folder that holds ``clarify_kit``, every file the function imports:
the stack packages exactly these (``Code.from_asset`` of that folder, everything else excluded), and a test runs
them alone, as Lambda does, without site-packages.
"""

from __future__ import annotations

__all__ = ["DRIFT_FUNCTION_FILES", "DRIFT_FUNCTION_HANDLER", "MODEL_MONITOR_NAMESPACE"]

# Model Monitor's namespace for the feature attribution metrics of real-time endpoints: the function publishes
# feature_<name> and ExpectedValue there too.
MODEL_MONITOR_NAMESPACE = "aws/sagemaker/Endpoints/explainability-metrics"

DRIFT_FUNCTION_HANDLER = "clarify_kit.runtime.drift_function.handler"
DRIFT_FUNCTION_FILES = (
    "clarify_kit/__init__.py",
    "clarify_kit/adapters/__init__.py",
    "clarify_kit/adapters/capture.py",
    "clarify_kit/core/__init__.py",
    "clarify_kit/core/_api_limits.py",
    "clarify_kit/core/codecs.py",
    "clarify_kit/core/drift.py",
    "clarify_kit/core/drift_partial.py",
    "clarify_kit/core/errors.py",
    "clarify_kit/core/exact_sums.py",
    "clarify_kit/core/expressions.py",
    "clarify_kit/core/limits.py",
    "clarify_kit/core/response.py",
    "clarify_kit/core/s3_uri.py",
    "clarify_kit/core/scores.py",
    "clarify_kit/core/version.py",
    "clarify_kit/runtime/__init__.py",
    "clarify_kit/runtime/drift_function.py",
)
