"""信访 notify service: records every notification and pushes it live to dashboards (SSE)."""
