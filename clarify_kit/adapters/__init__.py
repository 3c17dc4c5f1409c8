"""Adapters to the outside: AWS sessions and clients, S3 baselines, framework image URIs and the SageMaker SDK."""
