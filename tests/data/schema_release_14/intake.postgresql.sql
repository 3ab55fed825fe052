-- intake's schema at release_14 (postgresql): python -m tests.freeze_schema
CREATE TABLE case_number_blocks (
	office_code VARCHAR(12) NOT NULL, 
	year INTEGER NOT NULL, 
	next_value INTEGER NOT NULL, 
	PRIMARY KEY (office_code, year)
);

CREATE TABLE login_throttle (
	kind VARCHAR(8) NOT NULL, 
	subject VARCHAR(97) NOT NULL, 
	username VARCHAR(32) NOT NULL, 
	attempts INTEGER NOT NULL, 
	delay_s FLOAT NOT NULL, 
	next_at FLOAT NOT NULL, 
	last_at FLOAT NOT NULL, 
	version INTEGER NOT NULL, 
	PRIMARY KEY (kind, subject)
);

CREATE INDEX ix_login_throttle_last_at ON login_throttle (last_at);

CREATE INDEX ix_login_throttle_username ON login_throttle (username);

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

CREATE TABLE petitions (
	case_id VARCHAR(36) NOT NULL, 
	case_number VARCHAR(40) NOT NULL, 
	query_code VARCHAR(16) NOT NULL, 
	channel VARCHAR(20) NOT NULL, 
	anonymous BOOLEAN NOT NULL, 
	persons INTEGER NOT NULL, 
	receiving_office_code VARCHAR(12) NOT NULL, 
	matter_location_code VARCHAR(12), 
	matter_address VARCHAR(300), 
	category VARCHAR(50), 
	title VARCHAR(200), 
	content TEXT NOT NULL, 
	collective BOOLEAN NOT NULL, 
	received_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	registered_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	status VARCHAR(30) NOT NULL, 
	status_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	handling_unit_name VARCHAR(100), 
	deadlines JSON, 
	next_step VARCHAR(300), 
	PRIMARY KEY (case_id), 
	UNIQUE (case_number), 
	UNIQUE (query_code)
);

CREATE INDEX ix_petitions_receiving_office_code ON petitions (receiving_office_code);

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

CREATE TABLE users (
	id SERIAL NOT NULL, 
	username VARCHAR(32) NOT NULL, 
	display_name VARCHAR(50) NOT NULL, 
	password_hash VARCHAR(255) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	org_code VARCHAR(40) NOT NULL, 
	active BOOLEAN DEFAULT true NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);

CREATE INDEX ix_users_org_code ON users (org_code);

CREATE TABLE idempotency_keys (
	key VARCHAR(100) NOT NULL, 
	request_hash VARCHAR(64) NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	response JSON NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (key), 
	FOREIGN KEY(case_id) REFERENCES petitions (case_id)
);

CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE TABLE informant_reveals (
	id SERIAL NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	case_number VARCHAR(40) NOT NULL, 
	office_code VARCHAR(12) NOT NULL, 
	at TIMESTAMP WITH TIME ZONE NOT NULL, 
	username VARCHAR(40) NOT NULL, 
	actor VARCHAR(60) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	org_code VARCHAR(40) NOT NULL, 
	reason VARCHAR(500) NOT NULL, 
	outcome VARCHAR(20) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(case_id) REFERENCES petitions (case_id)
);

CREATE INDEX ix_informant_reveals_case_id ON informant_reveals (case_id);

CREATE INDEX ix_informant_reveals_office_code ON informant_reveals (office_code);

CREATE TABLE petition_history (
	id SERIAL NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	at TIMESTAMP WITH TIME ZONE NOT NULL, 
	status VARCHAR(30) NOT NULL, 
	note VARCHAR(500), 
	detail JSON, 
	PRIMARY KEY (id), 
	FOREIGN KEY(case_id) REFERENCES petitions (case_id)
);

CREATE INDEX ix_petition_history_case_id ON petition_history (case_id);

CREATE TABLE petitioners (
	id SERIAL NOT NULL, 
	case_id VARCHAR(36) NOT NULL, 
	position INTEGER NOT NULL, 
	name VARCHAR(50) NOT NULL, 
	id_number VARCHAR(18), 
	id_hash VARCHAR(64), 
	phone VARCHAR(30), 
	email VARCHAR(254), 
	address VARCHAR(200), 
	PRIMARY KEY (id), 
	FOREIGN KEY(case_id) REFERENCES petitions (case_id)
);

CREATE INDEX ix_petitioners_case_id ON petitioners (case_id);

CREATE INDEX ix_petitioners_id_hash ON petitioners (id_hash);

CREATE TABLE sealed_informants (
	case_id VARCHAR(36) NOT NULL, 
	identity BYTEA NOT NULL, 
	sealed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (case_id), 
	FOREIGN KEY(case_id) REFERENCES petitions (case_id)
);

