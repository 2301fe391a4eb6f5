DROP TABLE releases;
DROP TABLE exports;
