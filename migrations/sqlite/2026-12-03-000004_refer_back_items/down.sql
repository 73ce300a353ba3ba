ALTER TABLE moderations DROP COLUMN items_json;
