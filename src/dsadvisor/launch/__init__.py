"""Layer 6, the launch: from a chosen deployment to the commands and manifests that start it.

Imports only the layers below it.
"""
