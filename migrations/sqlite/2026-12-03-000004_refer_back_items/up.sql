-- Partial refer-back: the score items moderation names as queried (a JSON array of
-- {component, criterion}); only those are open in the next consensus. NULL: every item reopens
-- (a confirmation, or a refer-back that names none, as in v1).
ALTER TABLE moderations ADD COLUMN items_json TEXT;
