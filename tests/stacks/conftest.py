"""One CDK synthesis per test process: every example stack in one App, cdk-nag packs attached."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EXAMPLE_NAMES, example_path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def _self_hosted() -> Any:
    from clarify_kit.core.config import config_from_dict
    from tests.helpers import example_dict

    data = example_dict("binary")
    data["ClarifyKit"].update(Explainer="SelfHosted", StackName="ClarifyKitSelfHosted")
    data["EndpointConfig"]["ProductionVariants"].append(
        {"VariantName": "Serverless", "ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 5}}
    )
    return config_from_dict(data)


SELF_HOSTED = _self_hosted()


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import aws_cdk as cdk
    from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

    from clarify_kit.adapters.files import load_config
    from clarify_kit.stacks import ClarifyEndpointStack

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir))
    stacks = {}
    for name in EXAMPLE_NAMES:
        config = load_config(example_path(name))
        stacks[name] = ClarifyEndpointStack(app, config.ClarifyKit.StackName, config=config)
    # The self-hosted explainer (an image asset, a serverless variant beside the instances) under the same packs
    stacks["self-hosted"] = ClarifyEndpointStack(app, "ClarifyKitSelfHosted", config=SELF_HOSTED)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app))
    assembly = app.synth()
    templates = {name: assembly.get_stack_by_name(stack.stack_name).template for name, stack in stacks.items()}
    return {"outdir": Path(outdir), "templates": templates, "stacks": stacks}
