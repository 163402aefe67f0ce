"""papergraph's serving layer: HTTP (server/http.py) and the execution fast path (server/execution.py)."""
