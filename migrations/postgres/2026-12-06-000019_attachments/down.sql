DROP TABLE attachments;
DROP FUNCTION attest_attachments_only_removed();
DROP TABLE file_chunks;
DROP TABLE file_blobs;
