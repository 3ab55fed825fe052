"""信访 supervision service: statutory deadlines, reminders (催办), overdue notices and escalation."""
