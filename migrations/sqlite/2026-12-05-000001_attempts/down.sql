DROP INDEX assessments_previous_id;
ALTER TABLE assessments DROP COLUMN attempt_json;
ALTER TABLE assessments DROP COLUMN previous_id;
ALTER TABLE assessments DROP COLUMN attempt;
