"""信访 routing service: decides which body is responsible for each case (faust-streaming)."""
