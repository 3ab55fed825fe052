-- supervision's schema at release_14 (postgresql): python -m tests.freeze_schema
CREATE TABLE deadline_notices (
	id SERIAL NOT NULL, 
	deadline_id VARCHAR(36) NOT NULL, 
	stage INTEGER NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	event_id VARCHAR(64) NOT NULL, 
	sent_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_notice_deadline_stage UNIQUE (deadline_id, stage)
);

CREATE TABLE deadlines (
	id VARCHAR(36) NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	case_number VARCHAR(40) NOT NULL, 
	kind VARCHAR(40) NOT NULL, 
	label VARCHAR(100) NOT NULL, 
	basis VARCHAR(100) NOT NULL, 
	unit_code VARCHAR(30) NOT NULL, 
	unit_name VARCHAR(100) NOT NULL, 
	supervisor_code VARCHAR(30), 
	start_date DATE NOT NULL, 
	due_date DATE NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	met_at TIMESTAMP WITH TIME ZONE, 
	stage_done INTEGER NOT NULL, 
	next_check DATE, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_deadline_case_kind UNIQUE (case_id, kind)
);

CREATE INDEX ix_deadlines_case_id ON deadlines (case_id);

CREATE INDEX ix_deadlines_next_check ON deadlines (next_check);

CREATE TABLE outbox (
	id BIGSERIAL NOT NULL, 
	event_id VARCHAR(64) NOT NULL, 
	topic VARCHAR(128) NOT NULL, 
	key VARCHAR(128) NOT NULL, 
	value TEXT NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	published_at TIMESTAMP WITH TIME ZONE, 
	attempts INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (event_id)
);

CREATE INDEX ix_outbox_published_at ON outbox (published_at);

CREATE TABLE processed_events (
	event_id VARCHAR(64) NOT NULL, 
	event_type VARCHAR(64) NOT NULL, 
	processed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (event_id)
);

CREATE TABLE sup_case_history (
	id SERIAL NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	at TIMESTAMP WITH TIME ZONE NOT NULL, 
	actor VARCHAR(60) NOT NULL, 
	action VARCHAR(30) NOT NULL, 
	from_state VARCHAR(30), 
	to_state VARCHAR(30), 
	note TEXT, 
	detail JSON, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_sup_case_history_case_id ON sup_case_history (case_id);

CREATE TABLE sup_cases (
	case_id VARCHAR(36) NOT NULL, 
	case_number VARCHAR(40) NOT NULL, 
	profile VARCHAR(30) NOT NULL, 
	status VARCHAR(30) NOT NULL, 
	unit_code VARCHAR(30) NOT NULL, 
	unit_name VARCHAR(100) NOT NULL, 
	supervising_code VARCHAR(30), 
	category VARCHAR(40), 
	received_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	routed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	accepted_at TIMESTAMP WITH TIME ZONE, 
	replied_at TIMESTAMP WITH TIME ZONE, 
	reply_outcome VARCHAR(20), 
	review_answered_at TIMESTAMP WITH TIME ZONE, 
	extension_days INTEGER DEFAULT '0' NOT NULL, 
	leader VARCHAR(60), 
	repeat_count INTEGER DEFAULT '1' NOT NULL, 
	escalations INTEGER DEFAULT '0' NOT NULL, 
	backlog BOOLEAN DEFAULT '0' NOT NULL, 
	backlog_reasons JSON, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (case_id)
);

CREATE TABLE sup_category_labels (
	code VARCHAR(40) NOT NULL, 
	label VARCHAR(100) NOT NULL, 
	PRIMARY KEY (code)
);

CREATE TABLE sup_emerging_alerts (
	alert_id VARCHAR(36) NOT NULL, 
	place_code VARCHAR(30) NOT NULL, 
	category VARCHAR(40) NOT NULL, 
	window_start TIMESTAMP WITH TIME ZONE NOT NULL, 
	window_end TIMESTAMP WITH TIME ZONE NOT NULL, 
	petitioners INTEGER NOT NULL, 
	members JSON NOT NULL, 
	raised_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (alert_id)
);

CREATE INDEX ix_emerging_place ON sup_emerging_alerts (place_code, category, window_end);

CREATE TABLE sup_extension_requests (
	id SERIAL NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	days INTEGER NOT NULL, 
	reason TEXT NOT NULL, 
	requested_by VARCHAR(60) NOT NULL, 
	requested_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	decision VARCHAR(20), 
	decided_by VARCHAR(60), 
	decided_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_sup_extension_requests_case_id ON sup_extension_requests (case_id);

CREATE TABLE sup_holiday_notices (
	id SERIAL NOT NULL, 
	year INTEGER NOT NULL, 
	document VARCHAR(100) NOT NULL, 
	holidays JSON NOT NULL, 
	days_off JSON NOT NULL, 
	workdays JSON NOT NULL, 
	reason TEXT, 
	loaded_by VARCHAR(60) NOT NULL, 
	loaded_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_sup_holiday_notices_year ON sup_holiday_notices (year);

CREATE TABLE sup_repeat_arrivals (
	item_case_id VARCHAR(36) NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	item_case_number VARCHAR(40) NOT NULL, 
	arrived_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (item_case_id)
);

CREATE INDEX ix_repeat_arrivals_case ON sup_repeat_arrivals (case_id, arrived_at);

CREATE TABLE sup_repeat_wave_alerts (
	id SERIAL NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	arrivals INTEGER NOT NULL, 
	raised_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_sup_repeat_wave_alerts_case_id ON sup_repeat_wave_alerts (case_id);

CREATE TABLE supervision_orders (
	id VARCHAR(36) NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	deadline_id VARCHAR(36) NOT NULL, 
	issued_by VARCHAR(30) NOT NULL, 
	issued_to VARCHAR(30) NOT NULL, 
	issued_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	feedback_due DATE NOT NULL, 
	feedback_at TIMESTAMP WITH TIME ZONE, 
	feedback TEXT, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_supervision_orders_case_id ON supervision_orders (case_id);

CREATE TABLE token_revocations (
	username VARCHAR(32) NOT NULL, 
	revoked_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	reason VARCHAR(100) NOT NULL, 
	PRIMARY KEY (username)
);

