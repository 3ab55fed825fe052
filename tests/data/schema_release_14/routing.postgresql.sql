-- routing's schema at release_14 (postgresql): python -m tests.freeze_schema
CREATE TABLE org_tree_audit (
	id SERIAL NOT NULL, 
	at TIMESTAMP WITH TIME ZONE NOT NULL, 
	actor VARCHAR(60) NOT NULL, 
	actor_org VARCHAR(40) NOT NULL, 
	outcome VARCHAR(20) NOT NULL, 
	version VARCHAR(60), 
	version_id INTEGER, 
	forced BOOLEAN NOT NULL, 
	reason VARCHAR(500), 
	changes JSON, 
	problems JSON, 
	PRIMARY KEY (id)
);

CREATE TABLE org_tree_versions (
	id SERIAL NOT NULL, 
	version VARCHAR(60) NOT NULL, 
	source TEXT NOT NULL, 
	units INTEGER NOT NULL, 
	departments INTEGER NOT NULL, 
	loaded_by VARCHAR(60) NOT NULL, 
	loaded_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id)
);

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

CREATE TABLE repeat_fingerprints (
	seq SERIAL NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	root_case_id VARCHAR(36) NOT NULL, 
	identity_keys JSON NOT NULL, 
	signature BYTEA NOT NULL, 
	terms BYTEA, 
	topic JSON, 
	category VARCHAR(40), 
	department VARCHAR(30), 
	received_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (seq), 
	UNIQUE (case_id)
);

CREATE TABLE routing_cases (
	case_id VARCHAR(36) NOT NULL, 
	case_number VARCHAR(40) NOT NULL, 
	receiving_office_code VARCHAR(20) NOT NULL, 
	received_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	channel VARCHAR(20) NOT NULL, 
	category VARCHAR(40), 
	category_source VARCHAR(20) NOT NULL, 
	kind VARCHAR(10), 
	legal_channel VARCHAR(20) NOT NULL, 
	confidential BOOLEAN NOT NULL, 
	territory_code VARCHAR(20), 
	responsible_unit_code VARCHAR(20), 
	holder_code VARCHAR(30), 
	holder_since TIMESTAMP WITH TIME ZONE, 
	supervising_code VARCHAR(30), 
	skip_level BOOLEAN NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	linked_to VARCHAR(36), 
	repeat_count INTEGER NOT NULL, 
	decision JSON, 
	PRIMARY KEY (case_id)
);

CREATE INDEX ix_routing_cases_linked_to ON routing_cases (linked_to);

CREATE TABLE routing_hops (
	case_id VARCHAR(36) NOT NULL, 
	hop INTEGER NOT NULL, 
	case_number VARCHAR(40) NOT NULL, 
	action VARCHAR(10) NOT NULL, 
	from_unit_code VARCHAR(20) NOT NULL, 
	from_unit_name VARCHAR(100) NOT NULL, 
	to_unit_code VARCHAR(20) NOT NULL, 
	to_unit_name VARCHAR(100) NOT NULL, 
	reason VARCHAR(500) NOT NULL, 
	actor VARCHAR(60) NOT NULL, 
	needs_manual_triage BOOLEAN NOT NULL, 
	final BOOLEAN NOT NULL, 
	transfer_due DATE, 
	received_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	routed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (case_id, hop)
);

CREATE INDEX ix_routing_hops_to_unit_code ON routing_hops (to_unit_code);

CREATE TABLE token_revocations (
	username VARCHAR(32) NOT NULL, 
	revoked_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	reason VARCHAR(100) NOT NULL, 
	PRIMARY KEY (username)
);

