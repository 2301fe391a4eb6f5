DROP TABLE signature_requests;
DROP FUNCTION attest_signature_requests_kept();
