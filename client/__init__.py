"""The client: invoke explainable endpoints, parse their answers into tables and plots, smoke-test them."""

from client.invoke import EndpointClient, serialize_records
from client.result import InvokeResult, RecordExplanation, parse_result

__all__ = ["EndpointClient", "InvokeResult", "RecordExplanation", "parse_result", "serialize_records"]
