"""The client: invoke explainable endpoints, parse their answers into tables and plots, smoke-test them."""

from clarify_kit.client.invoke import EndpointClient, serialize_records
from clarify_kit.client.result import InvokeResult, RecordExplanation, parse_result

__all__ = ["EndpointClient", "InvokeResult", "RecordExplanation", "parse_result", "serialize_records"]
