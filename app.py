#!/usr/bin/env python3
"""CDK app: read -c config=PATH, precheck it, create the stack, add cdk-nag, synthesize."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _cdk_python() -> None:
    """cdk.json runs ``python3 app.py``, as ``cdk init`` projects do: in the virtual environment the user activated,
    else in this repo's ``.venv`` (made by ``make``), which this re-enters when the CDK is not importable here."""
    try:
        import aws_cdk  # noqa: F401
    except ModuleNotFoundError:
        venv = Path(__file__).resolve().parent / ".venv" / "bin" / "python"
        if venv.exists() and Path(sys.prefix).resolve() != venv.parent.parent.resolve():
            os.execv(venv, [str(venv), *sys.argv])
        sys.exit("clarify-kit: app.py needs the CDK libraries: run `make setup`, or `pip install "
                 "'clarify-kit[cdk]'` in the virtual environment you activated")


_cdk_python()

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks  # noqa: E402

from clarify_kit.core.errors import ConfigError  # noqa: E402
from clarify_kit.precheck import load_checked  # noqa: E402
from clarify_kit.stacks import ClarifyEndpointStack  # noqa: E402
from clarify_kit.stacks.nag import acknowledge_findings  # noqa: E402

app = cdk.App()
config_path = app.node.try_get_context("config") or "examples/binary/config.yaml"
region = app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION")
try:
    checked = load_checked(config_path, region=region)
except ConfigError as err:
    print(f"clarify-kit: {config_path} failed the precheck:", file=sys.stderr)
    for issue in err.issues:
        print(f"  {issue}", file=sys.stderr)
    sys.exit(1)

stack = ClarifyEndpointStack(
    app, checked.config.ClarifyKit.StackName, config=checked.config, warnings=checked.warnings,
    latency_estimate_s=checked.latency_estimate_s,
    env=cdk.Environment(account=app.node.try_get_context("account"), region=region),
)
acknowledge_findings(stack)
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app))
app.synth()
