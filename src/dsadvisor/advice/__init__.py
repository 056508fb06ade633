"""Layer 5, the advice: rules a candidate is checked against, the search that ranks candidates,
catalog summaries and the audit of conflicting sources. Imports only the layers below it.
"""
