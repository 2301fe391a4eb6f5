DROP TABLE data_stamp;
