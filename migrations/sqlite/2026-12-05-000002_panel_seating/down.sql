ALTER TABLE assessments DROP COLUMN seating_json;
