DROP TABLE notifications;
DROP FUNCTION attest_notifications_kept();
