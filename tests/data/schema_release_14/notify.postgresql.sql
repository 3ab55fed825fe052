-- notify's schema at release_14 (postgresql): python -m tests.freeze_schema
CREATE TABLE alerts (
	alert_id VARCHAR(36) NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	case_number VARCHAR(40) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	summary TEXT NOT NULL, 
	origin_unit_code VARCHAR(30) NOT NULL, 
	unit_code VARCHAR(30) NOT NULL, 
	escalations INTEGER NOT NULL, 
	unit_since TIMESTAMP WITH TIME ZONE, 
	reminders INTEGER NOT NULL, 
	raised_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	next_escalation_at TIMESTAMP WITH TIME ZONE, 
	acknowledged_at TIMESTAMP WITH TIME ZONE, 
	acknowledged_by VARCHAR(60), 
	ack_note VARCHAR(500), 
	PRIMARY KEY (alert_id)
);

CREATE INDEX ix_alerts_case_id ON alerts (case_id);

CREATE INDEX ix_alerts_due ON alerts (acknowledged_at, next_escalation_at);

CREATE TABLE case_contacts (
	case_id VARCHAR(36) NOT NULL, 
	case_number VARCHAR(40) NOT NULL, 
	name VARCHAR(60) NOT NULL, 
	phone VARCHAR(30), 
	email VARCHAR(200), 
	query_code VARCHAR(20), 
	office_name VARCHAR(60) NOT NULL, 
	PRIMARY KEY (case_id)
);

CREATE TABLE deliveries (
	id SERIAL NOT NULL, 
	delivery_id VARCHAR(36) NOT NULL, 
	source_event_id VARCHAR(64) NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	case_number VARCHAR(40) NOT NULL, 
	channel VARCHAR(20) NOT NULL, 
	address VARCHAR(300) NOT NULL, 
	person_id VARCHAR(60), 
	recipient VARCHAR(60) NOT NULL, 
	level VARCHAR(10) NOT NULL, 
	subject VARCHAR(200) NOT NULL, 
	body TEXT NOT NULL, 
	link VARCHAR(300), 
	secret VARCHAR(200), 
	template_id VARCHAR(60), 
	params TEXT, 
	status VARCHAR(12) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at TIMESTAMP WITH TIME ZONE, 
	last_error TEXT, 
	receipt VARCHAR(200), 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	sent_at TIMESTAMP WITH TIME ZONE, 
	read_at TIMESTAMP WITH TIME ZONE, 
	alert_id VARCHAR(36), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_delivery_once UNIQUE (source_event_id, channel, address), 
	UNIQUE (delivery_id)
);

CREATE INDEX ix_deliveries_alert ON deliveries (alert_id, created_at);

CREATE INDEX ix_deliveries_case_id ON deliveries (case_id);

CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt_at);

CREATE INDEX ix_deliveries_person_id ON deliveries (person_id);

CREATE TABLE notifications (
	seq SERIAL NOT NULL, 
	notification_id VARCHAR(36) NOT NULL, 
	source_event_id VARCHAR(64) NOT NULL, 
	source_event_type VARCHAR(64) NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	case_number VARCHAR(40) NOT NULL, 
	channel VARCHAR(20) NOT NULL, 
	recipient VARCHAR(60) NOT NULL, 
	unit_code VARCHAR(30), 
	alert_id VARCHAR(36), 
	level VARCHAR(10) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	body TEXT NOT NULL, 
	link VARCHAR(300), 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (seq), 
	CONSTRAINT uq_notification_once UNIQUE (source_event_id, channel, recipient), 
	UNIQUE (notification_id)
);

CREATE INDEX ix_notifications_case_id ON notifications (case_id);

CREATE INDEX ix_notifications_recipient ON notifications (recipient);

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

CREATE TABLE token_revocations (
	username VARCHAR(32) NOT NULL, 
	revoked_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	reason VARCHAR(100) NOT NULL, 
	PRIMARY KEY (username)
);

