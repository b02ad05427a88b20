"""View models of the dashboard: plain Python between the client (I/O) and the Textual screens."""
