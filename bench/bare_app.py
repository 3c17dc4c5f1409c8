"""Reference for bench_synth: a bare CDK app with the same three L1 resources and nothing else."""

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker

app = cdk.App()
stack = cdk.Stack(app, "BareEndpoint")
model = sagemaker.CfnModel(
    stack,
    "Model",
    execution_role_arn="arn:aws:iam::123456789012:role/sagemaker",
    primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/clarify-kit-examples:binary",
        model_data_url="s3://clarify-kit-example-artifacts/binary/model.tar.gz",
    ),
)
config = sagemaker.CfnEndpointConfig(
    stack,
    "EndpointConfig",
    production_variants=[
        sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name="AllTraffic",
            model_name=model.attr_model_name,
            initial_instance_count=2,
            instance_type="ml.m5.xlarge",
        )
    ],
    explainer_config=sagemaker.CfnEndpointConfig.ExplainerConfigProperty(
        clarify_explainer_config=sagemaker.CfnEndpointConfig.ClarifyExplainerConfigProperty(
            shap_config=sagemaker.CfnEndpointConfig.ClarifyShapConfigProperty(
                shap_baseline_config=sagemaker.CfnEndpointConfig.ClarifyShapBaselineConfigProperty(
                    shap_baseline="14.13,19.29,91.97,654.9,0.09636,0.1043,0.0888,0.04892,0.1812,0.0628"
                )
            )
        )
    ),
)
sagemaker.CfnEndpoint(stack, "Endpoint", endpoint_config_name=config.attr_endpoint_config_name)
app.synth()
