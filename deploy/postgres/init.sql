-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d).
-- One database per service, all owned by the `tandem` role the container was created with.
CREATE DATABASE tandem_discovery OWNER tandem;
CREATE DATABASE tandem_fraud OWNER tandem;
CREATE DATABASE tandem_forecast OWNER tandem;
CREATE DATABASE tandem_review OWNER tandem;
-- Organisations and API keys, read by every service.
CREATE DATABASE tandem_identity OWNER tandem;
