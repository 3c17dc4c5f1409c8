#!/usr/bin/env python3
"""CDK app: read -c config=PATH, precheck it, create the stack, add cdk-nag, synthesize."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

from clarify_kit.errors import ConfigError
from precheck import load_checked
from stacks import ClarifyEndpointStack
from stacks.nag import acknowledge_findings

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
