"""The explainer's numpy work on one BLAS thread: limited within the engine's products and restored after, so a
user's own process keeps its threads (issue 25, section 4)."""

from __future__ import annotations

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    """numpy's own BLAS (the one the engine's products run on; scipy may bring another, which it leaves alone)."""
    infos = threadpoolctl.threadpool_info()
    return [i["num_threads"] for i in infos if i["user_api"] == "blas" and "numpy" in i["filepath"]]


def test_the_engine_limits_blas_to_one_thread_only_while_it_computes() -> None:
    import numpy as np

    from clarify_kit.core import blas
    from clarify_kit.core.kernel_shap import explain

    before = _blas_threads()
    seen: list[list[int]] = []
    with blas.one_thread():
        seen.append(_blas_threads())
    result = explain(6, lambda masks: masks.astype(float).sum(axis=1, keepdims=True))
    assert seen == [[1] * len(before)]
    assert _blas_threads() == before  # the user's setting is back
    assert np.allclose(result.phi.ravel(), 1.0)  # f = sum of the features: each attributes exactly 1


_FAULTS = """
import resource, sys
if sys.argv[1] == "pinned":
    from clarify_kit.core.blas import pin_process
    pin_process()
def request():  # what a request makes and frees: a batch body of a few hundred kilobytes, joined from pieces
    parts = [b"0.123,4.567," * 25 + b"\\n"] * 1000
    body = b"".join(parts)
    return len(body[1:])
request()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    request()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_the_explainers_processes_keep_their_pages_between_requests() -> None:
    import platform
    import subprocess
    import sys

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("the allocator setting is glibc's")
    faults = {
        mode: int(
            subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True).stdout
        )
        for mode in ("default", "pinned")
    }
    assert faults["default"] > 2000  # glibc's default: fresh pages for every large block, every time
    assert faults["pinned"] < 200, faults
