-- One database per service (run once by the postgres image's entrypoint, on an empty data
-- directory, as POSTGRES_USER, who owns them). Each service creates its own tables at start.
CREATE DATABASE xinfang_intake;
CREATE DATABASE xinfang_routing;
CREATE DATABASE xinfang_supervision;
CREATE DATABASE xinfang_notify;
CREATE DATABASE xinfang_reports;
