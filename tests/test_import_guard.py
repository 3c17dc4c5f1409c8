"""The pure packages never load aws_cdk, constructs or jsii (they must work without node)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PURE = [
    "clarify_kit",
    "clarify_kit.cli",
    "clarify_kit.core.config",
    "clarify_kit.core.expressions",
    "clarify_kit.core.codecs",
    "clarify_kit.core.spec",
    "clarify_kit.core.synthetic",
    "clarify_kit.core.resources",
    "clarify_kit.precheck",
    "clarify_kit.client",
]
OPTIONAL_PURE = [
    "clarify_kit.core.kernel_shap",
    "clarify_kit.core.response",
    "clarify_kit.precheck.container",
    "clarify_kit.explainer.endpoint",
    "clarify_kit.client.invoke",
    "clarify_kit.client.smoke",
]


def test_pure_packages_do_not_import_cdk() -> None:
    script = (
        "import importlib, importlib.util, json, sys\n"
        f"mods = {PURE!r} + [m for m in {OPTIONAL_PURE!r} if importlib.util.find_spec(m)]\n"
        "for m in mods: importlib.import_module(m)\n"
        "from clarify_kit.cli import main\n"
        "main(['precheck', 'examples/binary/config.yaml', '--json'])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'constructs', 'jsii', 'cdk_nag'))\n"
        "print(json.dumps(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_static_precheck_does_not_import_boto3() -> None:
    script = (
        "import sys, json\nfrom clarify_kit.cli import main\n"
        "main(['precheck', 'examples/binary/config.yaml', '--json'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'numpy'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


FACE = [
    "Assessment",
    "ClarifyEndpoint",
    "ConfigError",
    "DeploymentConfig",
    "EndpointClient",
    "Finding",
    "InvokeResult",
    "KitError",
    "RecordExplanation",
    "__version__",
    "assess",
    "config_from_dict",
    "load_config",
    "parse_result",
    "precheck_file",
]


def test_the_package_face_is_small_sorted_and_loads_nothing_heavy_until_used() -> None:
    script = (
        "import json, sys\nimport clarify_kit\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'boto3', 'botocore', 'numpy'})\n"
        "names = list(clarify_kit.__all__)\n"
        "resolved = [n for n in names if n != 'ClarifyEndpoint' and getattr(clarify_kit, n) is not None]\n"
        "print(json.dumps([heavy, names, len(resolved)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    heavy, names, resolved = json.loads(out.stdout.strip().splitlines()[-1])
    assert heavy == [] and names == sorted(names) == FACE and resolved == len(FACE) - 1


def test_the_public_face_declares_each_name_once_everywhere() -> None:
    """A name added to the face's TYPE_CHECKING imports without __all__ and its lazy home, or the other way
    round, fails here (as httpx's face test computes its public names)."""
    import ast

    import clarify_kit

    tree = ast.parse(Path(clarify_kit.__file__).read_text())
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module:
                    imported.update({alias.asname or alias.name: stmt.module for alias in stmt.names})
    public = set(clarify_kit.__all__) - {"__version__"}
    assert set(imported) == public == set(clarify_kit._HOMES), (
        set(imported) ^ public,
        public ^ set(clarify_kit._HOMES),
    )
    assert all(clarify_kit._HOMES[name] == module for name, module in imported.items())
    for name in public:  # and every name resolves from its home
        assert getattr(clarify_kit, name) is not None
