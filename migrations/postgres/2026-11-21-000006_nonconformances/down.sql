DROP TABLE nonconformances;
