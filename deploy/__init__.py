"""How to run the system: the broker launcher and the local process runner (``make run``)."""
