"""clarify-kit core: the deployment config, explainer formats, JMESPath rules and the Kernel SHAP engine."""

__version__ = "0.1.0"
