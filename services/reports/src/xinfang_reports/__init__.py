"""信访 reports: the office's statistics, 台账 (ledgers) and periodic reports, from the events."""
