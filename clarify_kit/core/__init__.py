"""The core: the deployment config, the rules that judge it, explainer formats, JMESPath and the Kernel SHAP engine.

Pure: it imports no other room of the kit and does no network, SDK or Docker I/O.
"""
