DROP TABLE mail_outbox;
DROP FUNCTION attest_mail_outbox_kept();
