DROP TABLE requirement_imports;
DROP TABLE requirement_texts;
DROP TABLE requirements;
