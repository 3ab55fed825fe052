"""信访 intake service: registers petitions from every channel (FastAPI, stateless, N replicas)."""
