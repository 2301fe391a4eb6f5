DROP TABLE webhook_deliveries;
DROP TABLE commit_refs;
DROP TABLE commits;
DROP TABLE repositories;
