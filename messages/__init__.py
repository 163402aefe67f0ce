"""Messages papergraph sends (MSG): the default templates, rendering, and the delivery worker."""
