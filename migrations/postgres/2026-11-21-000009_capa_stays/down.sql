DROP INDEX capas_by_created;
DROP TABLE capa_stays;
