#!/usr/bin/env python3
"""CDK app, a settings sheet: read -c config=PATH, create the stack (which judges the config), add cdk-nag, synth."""

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
        sys.exit(
            "clarify-kit: app.py needs the CDK libraries: run `make setup`, or `pip install "
            "'clarify-kit[cdk]'` in the virtual environment you activated"
        )


_cdk_python()
# jsii prints an end-of-life banner for Node 20 as byte-literal lines: the kit's own runs silence it (a list of
# major versions, as jsii reads it).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks  # noqa: E402

from clarify_kit.adapters.files import load_config  # noqa: E402
from clarify_kit.adapters.images import resolve_images  # noqa: E402
from clarify_kit.core.errors import ConfigError, ConfigFileError, SetupError  # noqa: E402
from clarify_kit.stacks import ClarifyEndpointStack  # noqa: E402

app = cdk.App()
config_path = app.node.try_get_context("config") or "examples/binary/config.yaml"
region = app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION")
try:
    # The construct judges the config with precheck's rules: errors stop here, warnings become annotations.
    config, _ = resolve_images(load_config(config_path), region)  # framework images, for the stack's region
    ClarifyEndpointStack(
        app,
        config.ClarifyKit.StackName,
        config=config,
        env=cdk.Environment(account=app.node.try_get_context("account"), region=region),
    )
except ConfigError as err:
    print(f"clarify-kit: {config_path} failed the precheck:", file=sys.stderr)
    for issue in err.issues:
        print(f"  {issue}", file=sys.stderr)
    sys.exit(1)
except (ConfigFileError, SetupError) as err:  # unreadable, or an image and no region: one line
    print(f"clarify-kit: {err}", file=sys.stderr)
    sys.exit(2)
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app))
app.synth()
