DROP TABLE attachments;
DROP TABLE file_chunks;
DROP TABLE file_blobs;
