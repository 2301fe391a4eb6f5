DROP TABLE document_exports;
DROP TABLE document_words;
DROP TABLE document_rounds;
DROP TABLE document_versions;
DROP TABLE documents;
DROP FUNCTION attest_round_kept();
