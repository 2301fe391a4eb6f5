DROP TABLE links;
DROP TABLE capa_items;
DROP TABLE capas;
