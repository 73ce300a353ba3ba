DROP TABLE assessor_records;
ALTER TABLE assessments DROP COLUMN adjustments_json;
